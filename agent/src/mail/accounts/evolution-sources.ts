import { keyFileBoolean, parseKeyFile, type KeyFileGroups } from './key-file.js';
import { makeAccount, type MailAccount, type MailParseResult } from './mail-account.js';

/** One `<uid>.source` file of `~/.config/evolution/sources`. */
export type EvolutionSourceFile = {
  /** The file name without `.source`: what other sources name it by. */
  readonly uid: string;
  readonly text: string;
  /** Its path on the PC, for the account's `source`. */
  readonly source: string;
};

/** Evolution's backend names where they differ from the protocol's. */
const PROTOCOLS: Readonly<Record<string, string>> = { imapx: 'imap', imap: 'imap', pop: 'pop3' };
/** Accounts that are no mail server: search folders, news, the placeholder of an unset account. */
const NOT_MAIL = new Set(['vfolder', 'nntp', 'none']);
const SSL = 'ssl-on-alternate-port';

function defaultPort(protocol: string, security: string | undefined): number | undefined {
  const ssl = security === SSL;
  if (protocol === 'imap') return ssl ? 993 : 143;
  if (protocol === 'pop3') return ssl ? 995 : 110;
  if (protocol === 'smtp') return ssl ? 465 : 25;
  return undefined;
}

/**
 * Evolution's mail accounts, from its source files. One account is three files linked by uid:
 * the account (`[Mail Account]`, the incoming server in `[Authentication]`), its identity
 * (`[Mail Identity]`, the address) and the identity's transport (`[Mail Transport]`, the
 * outgoing server):
 *
 *     1717171717.4242.1@pc-014.source         1717171717.4242.2@pc-014.source
 *     [Data Source]                           [Data Source]
 *     DisplayName=Ministère                   DisplayName=ahmed.benali@interieur.gov.dz
 *     Enabled=true                            Parent=1717171717.4242.1@pc-014
 *     Parent=
 *                                             [Mail Identity]
 *     [Mail Account]                          Address=ahmed.benali@interieur.gov.dz
 *     BackendName=imapx                       Name=Ahmed Benali
 *     IdentityUid=1717171717.4242.2@pc-014
 *                                             [Mail Submission]
 *     [Authentication]                        TransportUid=1717171717.4242.3@pc-014
 *     Host=imap.interieur.gov.dz
 *     Method=PLAIN                            1717171717.4242.3@pc-014.source: [Mail Transport]
 *     Port=993                                BackendName=smtp, [Authentication] Host=, Port=
 *     User=ahmed.benali
 *
 *     [Security]
 *     Method=ssl-on-alternate-port
 *
 * An account whose `[Data Source]` says `Enabled=false` is switched off and left out; search
 * folders and news are no mail accounts. Port 0 or none is the protocol's port for the
 * `[Security] Method`. A broken link (an identity file missing) is a problem, not a throw.
 */
export function parseEvolutionSources(user: string, files: readonly EvolutionSourceFile[]): MailParseResult {
  const problems: string[] = [];
  const sources = new Map<string, { groups: KeyFileGroups; source: string }>();
  for (const file of files) {
    const parsed = parseKeyFile(file.text, { escapes: true });
    for (const problem of parsed.problems) problems.push(`${file.uid}.source: ${problem}`);
    sources.set(file.uid, { groups: parsed.groups, source: file.source });
  }

  const accounts: MailAccount[] = [];
  for (const [uid, { groups, source }] of [...sources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const account = groups.get('Mail Account');
    if (account === undefined) continue;
    const backend = (account.get('BackendName') ?? '').toLowerCase();
    if (NOT_MAIL.has(backend) || keyFileBoolean(groups.get('Data Source')?.get('Enabled')) === false) continue;
    const identityUid = account.get('IdentityUid') ?? '';
    if (identityUid === '') continue;
    const identity = sources.get(identityUid)?.groups;
    const address = identity?.get('Mail Identity')?.get('Address');
    if (identity === undefined || address === undefined || address === '') {
      problems.push(`${uid}.source: its identity ${identityUid} has no source file with an address`);
      continue;
    }
    const protocol = PROTOCOLS[backend] ?? backend;
    const made = makeAccount('evolution', { user, source }, {
      address,
      displayName: identity.get('Mail Identity')?.get('Name'),
      incoming: { protocol, ...server(groups, protocol) },
      outgoing: transport(sources.get(identity.get('Mail Submission')?.get('TransportUid') ?? '')?.groups),
    });
    if (made) accounts.push(made);
    else problems.push(`${uid}.source: its identity's address is not one`);
  }
  return { accounts, problems };
}

/** The server a source connects to: `[Authentication]`, or the URL of an Exchange (EWS) account. */
function server(groups: KeyFileGroups, protocol: string): { host: string | undefined; port: number | undefined } {
  const auth = groups.get('Authentication');
  const host = auth?.get('Host') || hostOfUrl(groups.get('Ews Backend')?.get('HostUrl'));
  const port = Number(auth?.get('Port') ?? '0') || defaultPort(protocol, groups.get('Security')?.get('Method'));
  return { host, port };
}

function transport(groups: KeyFileGroups | undefined): { host: string | undefined; port: number | undefined } | undefined {
  const backend = groups?.get('Mail Transport')?.get('BackendName')?.toLowerCase();
  if (groups === undefined || backend === undefined) return undefined;
  // sendmail hands mail to the local MTA: no server of the account's own.
  if (backend === 'sendmail') return undefined;
  return server(groups, backend);
}

function hostOfUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    return new URL(url).hostname;
  } catch (err) {
    if (err instanceof TypeError) return undefined;
    throw err;
  }
}
