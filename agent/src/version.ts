/** The agent's version: printed by --version and sent to the server at enrollment. */
export const VERSION = '0.1.0';
