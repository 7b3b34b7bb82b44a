import { ErrorCodes, PortcullisError } from '../errors.js';

/**
 * The one-line commands the console's enrollment-token page shows an admin (issue 7), built here
 * so the console and the tests that run them share one copy.
 */

/** Single-quotes a word for a POSIX shell when it holds anything but plainly safe characters. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The server's URL as agents want it: no trailing slash, as enroll would otherwise keep it. */
function baseUrl(serverUrl: string): string {
  return serverUrl.replace(/\/+$/, '');
}

/**
 * The line that enrolls a PC whose agent is already installed (agent/src/commands/enroll-command.ts).
 * It runs as root through sudo, with the token as sudo's own variable assignment (a variable set
 * before `sudo` would be dropped by sudo's env_reset), so it stays out of the agent's argv.
 */
export function enrollCommand(token: string, serverUrl: string, caFingerprint: string | null): string {
  const parts = ['sudo', `PORTCULLIS_ENROLL_TOKEN=${shellQuote(token)}`, 'portcullis-agent', 'enroll', '--server', shellQuote(baseUrl(serverUrl))];
  if (caFingerprint) parts.push('--fingerprint', shellQuote(caFingerprint));
  return parts.join(' ');
}

/** What dpkg accepts as an upstream version without an epoch (the file name has none). */
const DEB_VERSION = /^[0-9][A-Za-z0-9.+~-]{0,63}$/;

/** Whether `version` can name the agent's package (see debFileName). */
export function isDebVersion(version: string): boolean {
  return DEB_VERSION.test(version);
}

/** The file name of the agent's Debian package (installers/src/deb/build-deb.ts). */
export function debFileName(version: string): string {
  if (!isDebVersion(version)) {
    throw new PortcullisError(ErrorCodes.INTERNAL, `not a package version: ${JSON.stringify(version.slice(0, 64))}`);
  }
  return `portcullis-agent_${version}_amd64.deb`;
}

/**
 * The line that installs the .deb and enrolls the PC in one go (installers/debian-assets/postinst
 * reads the three variables). It is meant for a root shell (`sudo -i`), in the folder holding the
 * package: `sudo VAR=…` would put the token in sudo's log, which records its command line.
 * postinst needs all three values, so an empty one is refused here rather than on the PC.
 */
export function debInstallCommand(token: string, serverUrl: string, caFingerprint: string, version: string): string {
  const values: Array<[string, string]> = [
    ['PORTCULLIS_SERVER', baseUrl(serverUrl)],
    ['PORTCULLIS_TOKEN', token],
    ['PORTCULLIS_FINGERPRINT', caFingerprint],
  ];
  const missing = values.filter(([, value]) => value.trim() === '').map(([name]) => name);
  if (missing.length > 0) throw new PortcullisError(ErrorCodes.INTERNAL, `the install command needs ${missing.join(', ')}`);
  return [...values.map(([name, value]) => `${name}=${shellQuote(value)}`), 'dpkg', '-i', shellQuote(debFileName(version))].join(' ');
}
