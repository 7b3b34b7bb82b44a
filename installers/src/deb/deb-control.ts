/**
 * The text files of the portcullis-agent .deb that depend on the build (control, changelog,
 * conffiles, md5sums): pure functions, no I/O, the date passed in.
 */

export const PACKAGE = 'portcullis-agent';
export const ARCHITECTURE = 'amd64';
export const DEFAULT_MAINTAINER = 'Portcullis maintainers <portcullis@example.org>';

/**
 * What the single-file agent needs at run time. The executable is the official Node.js linux-x64
 * binary (glibc 2.28, GLIBCXX_3.4.21 from GCC 5.2, libgcc_s; deb-build.test.ts checks these
 * against the symbol versions the binary asks for); udev's udevadm brings hotplug events.
 * nftables only serves the mail egress guard, which reports an error without it.
 */
export const DEPENDS = ['libc6 (>= 2.28)', 'libgcc-s1 (>= 3.4)', 'libstdc++6 (>= 5.2)', 'udev'] as const;
export const RECOMMENDS = ['nftables'] as const;

/** The conffiles: dpkg keeps an administrator's changes to them across upgrades. */
export const CONFFILES = ['/etc/portcullis/agent.json'] as const;

export interface DebVersion {
  readonly epoch: number | null;
  readonly upstream: string;
  /** null for a native version (no hyphen), as the agent's own "0.1.0". */
  readonly revision: string | null;
}

/**
 * Parses a Debian version (deb-version(7)): [epoch:]upstream[-revision], e.g. "0.1.0",
 * "1:0.2.0~rc1-2". The upstream part starts with a digit; a hyphen in it is only possible when
 * a revision follows, since the last hyphen starts the revision.
 */
export function parseDebVersion(text: string): DebVersion {
  const m = /^(?:(\d{1,9}):)?([0-9][A-Za-z0-9.+~-]*?)(?:-([A-Za-z0-9.+~]+))?$/.exec(text);
  // A hyphen left in the upstream part without a revision after it: "1.0-".
  if (m === null || m[2] === undefined || (m[3] === undefined && m[2].includes('-'))) {
    throw new Error(
      `not a Debian package version: ${JSON.stringify(text)} (expected [epoch:]upstream[-revision], upstream starting with a digit, e.g. 0.1.0 or 0.2.0~rc1-1)`,
    );
  }
  return { epoch: m[1] === undefined ? null : Number(m[1]), upstream: m[2], revision: m[3] ?? null };
}

/** The file name Debian tools expect: no epoch (a colon is not portable in file names). */
export function debFileName(version: string): string {
  const v = parseDebVersion(version);
  return `${PACKAGE}_${v.upstream}${v.revision === null ? '' : `-${v.revision}`}_${ARCHITECTURE}.deb`;
}

/** "Name <address>", as Debian policy 5.6.2 wants the Maintainer field. */
export function checkMaintainer(text: string): string {
  if (!/^[^<>\n,]+ <[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>$/.test(text)) {
    throw new Error(`not a maintainer: ${JSON.stringify(text)} (expected "Full Name <address@example.org>")`);
  }
  return text;
}

export interface ControlFields {
  readonly version: string;
  readonly maintainer: string;
  /** KiB, as dpkg-gencontrol counts it. */
  readonly installedSizeKiB: number;
}

const SYNOPSIS = 'Portcullis endpoint agent: USB and port control';

/** The long description, one paragraph a line (folded by controlFile). */
const DESCRIPTION = [
  'Portcullis controls the input/output ports and the email addresses of the PCs of an organisation. This agent enforces, on this computer, the policy that a central Portcullis server sets for its group: USB devices (storage, phones, network adapters, hubs…) are allowed, blocked or made read-only by USBGuard-language rules, serial, parallel, optical and Bluetooth ports are switched on or off, and mail clients may only reach the approved mail servers.',
  'It keeps enforcing the last signed policy when the server is away and reports devices, decisions and inventory to the server. It runs as a hardened systemd service; installing the package with PORTCULLIS_SERVER, PORTCULLIS_TOKEN and PORTCULLIS_FINGERPRINT in the environment enrolls the computer, and removing it needs an uninstall code from the server.',
];

/** Folds a paragraph to description lines of at most 79 characters, each starting with a space. */
export function foldParagraph(text: string, width = 79): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width - 1) {
      lines.push(` ${line}`);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(` ${line}`);
  return lines;
}

/** DEBIAN/control of the binary package. */
export function controlFile(fields: ControlFields): string {
  parseDebVersion(fields.version);
  checkMaintainer(fields.maintainer);
  if (!Number.isInteger(fields.installedSizeKiB) || fields.installedSizeKiB <= 0) {
    throw new Error(`Installed-Size must be a positive whole number of KiB, not ${fields.installedSizeKiB}`);
  }
  const description = DESCRIPTION.map((p) => foldParagraph(p).join('\n')).join('\n .\n');
  return [
    `Package: ${PACKAGE}`,
    `Version: ${fields.version}`,
    `Architecture: ${ARCHITECTURE}`,
    `Maintainer: ${fields.maintainer}`,
    `Installed-Size: ${fields.installedSizeKiB}`,
    `Depends: ${DEPENDS.join(', ')}`,
    `Recommends: ${RECOMMENDS.join(', ')}`,
    'Section: admin',
    'Priority: optional',
    `Description: ${SYNOPSIS}`,
    description,
    '',
  ].join('\n');
}

/**
 * Where the changelog goes: a native version (no revision) has only its own changelog,
 * changelog.gz; a version with a Debian revision has changelog.Debian.gz (policy 12.7).
 */
export function changelogName(version: string): string {
  return parseDebVersion(version).revision === null ? 'changelog.gz' : 'changelog.Debian.gz';
}

/** RFC 5322 date as debian/changelog wants it: "Tue, 25 Nov 2025 08:00:00 +0000". */
export function changelogDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error('the changelog date is not a valid date');
  return date.toUTCString().replace('GMT', '+0000');
}

/** The changelog entry of this build (uncompressed). */
export function changelogFile(version: string, maintainer: string, date: Date): string {
  parseDebVersion(version);
  checkMaintainer(maintainer);
  return [
    `${PACKAGE} (${version}) unstable; urgency=medium`,
    '',
    `  * Portcullis agent ${version}, packaged from the single-file agent.`,
    '',
    ` -- ${maintainer}  ${changelogDate(date)}`,
    '',
  ].join('\n');
}

export function conffilesFile(): string {
  return `${CONFFILES.join('\n')}\n`;
}

/** DEBIAN/md5sums: "<md5>  <path without the leading slash>", sorted by path. */
export function md5sumsFile(files: readonly { path: string; md5: string }[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => {
      if (!/^[0-9a-f]{32}$/.test(f.md5)) throw new Error(`not an md5 digest: ${JSON.stringify(f.md5)}`);
      return `${f.md5}  ${f.path.replace(/^\/+/, '')}\n`;
    })
    .join('');
}
