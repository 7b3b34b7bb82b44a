/** The agent's version: printed by --version and sent to the server at enrollment; one source for the whole product. */
export { PRODUCT_VERSION as VERSION } from '@portcullis/shared';
