export {
  cleanName,
  compareAccounts,
  MAIL_CLIENTS,
  makeAccount,
  MAX_MAIL_FILE_BYTES,
  normalizeAddress,
  normalizeHost,
  normalizePort,
  sortAndDedupe,
  type IncomingServer,
  type MailAccount,
  type MailClient,
  type MailParseResult,
  type MailSourceContext,
  type OutgoingServer,
} from './mail-account.js';
export { parseEvolutionSources, type EvolutionSourceFile } from './evolution-sources.js';
export { parseGoaAccounts } from './goa-accounts.js';
export { decodeRegExport, parseOutlookProfiles, parseRegExport, type RegExportResult, type RegKey, type RegValue } from './outlook-profiles.js';
export { parsePrefs, parseThunderbirdPrefs, type PrefValue } from './thunderbird-prefs.js';
export { parseThunderbirdProfiles, type ThunderbirdProfileRef } from './thunderbird-profiles.js';
export { parsePasswd, type LocalUser } from './local-users.js';
export { HomeFileReader, type HomeRead } from './home-file-reader.js';
export { isRelevantPath, type MailWatchTargets } from './mail-watch-paths.js';
export { DEFAULT_MAX_MAIL_ACCOUNTS, MailAccountDiscovery, type MailAccountDiscoveryOptions, type MailAccountDiscoveryResult } from './mail-account-discovery.js';
export { DEFAULT_MAIL_WATCH_DEBOUNCE_MS, MailAccountWatcher, type MailAccountWatcherOptions } from './mail-account-watcher.js';
