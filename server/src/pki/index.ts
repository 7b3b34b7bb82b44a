export { ensureServerIdentity, PKI_FILES, RENEW_BEFORE_DAYS } from './server-identity.js';
export type { ServerIdentity, ServerIdentityOptions, ServerIdentityStatus } from './server-identity.js';
export { PkiError } from './pki-error.js';
export { ALWAYS_INCLUDED_HOSTNAMES, parseHostname, type HostnameSet, type ParsedHostname } from './hostnames.js';
export type { PolicySigningKey } from './signing-key.js';
