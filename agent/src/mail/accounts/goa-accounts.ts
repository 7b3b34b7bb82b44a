import { keyFileBoolean, parseKeyFile } from './key-file.js';
import { makeAccount, normalizeAddress, splitHostPort, type MailAccount, type MailParseResult, type MailSourceContext } from './mail-account.js';

type Server = { readonly host: string; readonly port: number };

/**
 * Providers whose mail servers GNOME Online Accounts sets in its code rather than in the file
 * (goagoogleprovider.c, goawindowsliveprovider.c). Other mail providers (Microsoft 365 through
 * Graph…) are reported by address alone.
 */
const FIXED_SERVERS: Readonly<Record<string, { readonly imap: Server; readonly smtp: Server }>> = {
  google: { imap: { host: 'imap.gmail.com', port: 993 }, smtp: { host: 'smtp.gmail.com', port: 587 } },
  windows_live: { imap: { host: 'imap-mail.outlook.com', port: 993 }, smtp: { host: 'smtp-mail.outlook.com', port: 587 } },
};

/**
 * The mail accounts of GNOME Online Accounts, from `~/.config/goa-1.0/accounts.conf` (a GLib key
 * file; passwords and tokens are in the keyring, not here):
 *
 *     [Account account_1565352011_0]
 *     Provider=google
 *     Identity=ahmed.benali@gmail.com
 *     PresentationIdentity=ahmed.benali@gmail.com
 *     MailEnabled=true
 *     CalendarEnabled=true
 *
 *     [Account account_1565352200_1]
 *     Provider=imap_smtp
 *     Identity=ahmed.benali@interieur.gov.dz
 *     PresentationIdentity=ahmed.benali@interieur.gov.dz
 *     EmailAddress=ahmed.benali@interieur.gov.dz
 *     Name=Ahmed Benali
 *     ImapHost=imap.interieur.gov.dz
 *     ImapUserName=ahmed.benali
 *     ImapUseSsl=true
 *     ImapUseTls=false
 *     SmtpHost=smtp.interieur.gov.dz:2525
 *     SmtpUseSsl=false
 *     SmtpUseTls=true
 *     MailEnabled=true
 *
 *     [Account account_1581875544_0]
 *     Provider=exchange
 *     Identity=ahmed
 *     PresentationIdentity=ahmed.benali@interieur.gov.dz
 *     MailEnabled=true
 *     Host=mail.interieur.gov.dz
 *
 * An account with mail switched off (`MailEnabled=false`, or the older `Enabled=false`), or of a
 * provider that carries no mail (Nextcloud, Kerberos…), is left out. A host may carry its port
 * (`host:port`); otherwise the port is the one GOA uses for the encryption chosen. The address is
 * `EmailAddress`, else whichever identity is one.
 */
export function parseGoaAccounts(text: string, context: MailSourceContext): MailParseResult {
  const { groups, problems } = parseKeyFile(text, { escapes: true });
  const accounts: MailAccount[] = [];
  for (const [group, keys] of groups) {
    const id = /^Account (\S+)$/.exec(group)?.[1];
    if (id === undefined) continue;
    const provider = keys.get('Provider') ?? '';
    const mailEnabled = keyFileBoolean(keys.get('MailEnabled')) ?? (provider === 'imap_smtp' ? keyFileBoolean(keys.get('Enabled')) ?? true : undefined);
    if (mailEnabled !== true) continue;
    const address = [keys.get('EmailAddress'), keys.get('PresentationIdentity'), keys.get('Identity')].find((v) => normalizeAddress(v) !== undefined);
    if (address === undefined) {
      problems.push(`account ${id} (${provider || 'no provider'}) has mail enabled but no address`);
      continue;
    }
    const servers = serversOf(provider, keys);
    const made = makeAccount('goa', context, { address, displayName: keys.get('Name'), ...servers });
    if (made) accounts.push(made);
  }
  return { accounts, problems };
}

type Servers = {
  incoming?: { protocol: string; host: string | undefined; port: number | undefined };
  outgoing?: { host: string | undefined; port: number | undefined };
};

function serversOf(provider: string, keys: ReadonlyMap<string, string>): Servers {
  const fixed = FIXED_SERVERS[provider];
  if (fixed) return { incoming: { protocol: 'imap', ...fixed.imap }, outgoing: fixed.smtp };
  if (provider === 'exchange') return { incoming: { protocol: 'ews', host: splitHostPort(keys.get('Host')).host, port: undefined } };
  if (provider !== 'imap_smtp') return {};
  const imap = splitHostPort(keys.get('ImapHost'));
  const smtp = splitHostPort(keys.get('SmtpHost'));
  const imapSsl = keyFileBoolean(keys.get('ImapUseSsl')) === true;
  const smtpSsl = keyFileBoolean(keys.get('SmtpUseSsl')) === true;
  const smtpTls = keyFileBoolean(keys.get('SmtpUseTls')) === true;
  return {
    incoming: { protocol: 'imap', host: imap.host, port: imap.port ?? (imapSsl ? 993 : 143) },
    outgoing: { host: smtp.host, port: smtp.port ?? (smtpSsl ? 465 : smtpTls ? 587 : 25) },
  };
}
