/**
 * The version of the Portcullis release: the agent prints and reports it, its packages are named
 * after it (portcullis-agent_0.1.0_amd64.deb) and the server tells the console which agent it
 * ships with. One constant here, so the three never drift apart.
 */
export const PRODUCT_VERSION = '0.1.0';
