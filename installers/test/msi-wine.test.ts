/**
 * The package installed for real by wine's msiexec (wine64, a Windows 10 prefix of this test's
 * own under installers/.cache, deleted after), enrolling with a real Portcullis server and
 * removed with and without an uninstall code. Wine runs the whole InstallExecuteSequence: the
 * JScript actions, cmd.exe, the agent's enroll and uninstall --check, the service's registration.
 *
 * What wine cannot show: the service starting (WinSW is a .NET program and this wine has no
 * Mono), so the test installs a copy whose ServiceControl row does not start it, everything else
 * byte for byte the real package; ACLs (wine's icacls does nothing); the restarts after a failure
 * (wine skips MsiConfigureServices); MsiHiddenProperties (wine's log lists every property at the
 * end, the token too — Windows writes asterisks there); a removal after an upgrade (wine leaves
 * the old version's component registrations behind, so it puts the files back), so the upgrade
 * comes last.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { buildMsi } from '../src/msi/build-msi.js';
import { productCode } from '../src/msi/msi-tables.js';
import { SERVICE_ID } from '../src/msi/winsw.js';
import { CACHE_DIR, OUT_DIR } from '../src/sea/layout.js';
import { buildWindowsBinary, sha256File, type SeaBinary } from '../src/sea/sea-binary.js';
import { Wine } from '../src/sea/wine.js';
import { TestServer } from './deb-support.js';

const execFileAsync = promisify(execFile);
const SERVICE_KEY = `HKLM\\System\\CurrentControlSet\\Services\\${SERVICE_ID}`;

describe('msi: installed under wine', function () {
  this.timeout(600_000);
  let exe: SeaBinary;
  let msi: string;
  let nextMsi: string;
  let wine: Wine;
  let server: TestServer;
  let agentId = '';
  let firstToken = '';
  let work = '';

  const drive = (...parts: string[]): string => join(wine.prefix, 'drive_c', ...parts);
  const installDir = (): string => drive('Program Files', 'Portcullis');
  const dataDir = (): string => drive('ProgramData', 'Portcullis');

  /** msiexec, silent, with a verbose log; returns its exit code and the log. */
  async function msiexec(args: readonly string[], logName: string): Promise<{ code: number | null; log: string }> {
    const started = Date.now();
    const result = await wine.run('msiexec', [...args, '/qn', '/l*v', `C:\\${logName}`], { timeoutMs: 300_000 });
    console.log(`      msiexec ${args[0]} ${args.slice(2).map((a) => a.replace(/=.*/, '=…')).join(' ')}: exit ${result.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { code: result.code, log: await readFile(drive(logName), 'utf8') };
  }

  before(async () => {
    exe = await buildWindowsBinary({ log: (line) => console.log(`      ${line}`) });
    const built = await buildMsi({ exe: exe.path, outDir: OUT_DIR, version: VERSION, log: (line) => console.log(`      ${line}`) });
    await mkdir(CACHE_DIR, { recursive: true });
    work = await mkdtemp(join(CACHE_DIR, 'msi-wine-'));
    // The one change: the service is registered but not started (WinSW cannot run without .NET here).
    msi = join(work, 'portcullis-agent-no-service-start.msi');
    await copyFile(built, msi);
    await execFileAsync('msibuild', [msi, '-q', `UPDATE \`ServiceControl\` SET \`Event\` = 162 WHERE \`ServiceControl\` = '${SERVICE_ID}'`]);
    // The same package one build later, to upgrade to.
    const next = await buildMsi({ exe: exe.path, outDir: work, version: nextVersion(VERSION) });
    nextMsi = join(work, 'portcullis-agent-next-no-service-start.msi');
    await copyFile(next, nextMsi);
    await execFileAsync('msibuild', [nextMsi, '-q', `UPDATE \`ServiceControl\` SET \`Event\` = 162 WHERE \`ServiceControl\` = '${SERVICE_ID}'`]);
    const started = Date.now();
    wine = await Wine.open(work);
    console.log(`      ${wine.version}, throwaway prefix ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    server = await TestServer.start();
  });
  after(async () => {
    // No wineserver or Windows process left behind, no prefix left on disk.
    await wine?.stop();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses SERVER without TOKEN and FINGERPRINT, and changes nothing', async () => {
    const { code, log } = await msiexec(['/i', wine.windowsPath(msi), `SERVER=${server.url}`], 'refused.log');
    expect(code).to.not.equal(0);
    expect(log).to.include('Portcullis: give SERVER, TOKEN and FINGERPRINT together to enroll this computer, or none of them to enroll it later.');
    expect(await exists(installDir())).to.equal(false);
  });

  it("fails and rolls back when the server refuses the token, showing the agent's reason", async () => {
    const unknown = 'pct_never-issued-by-this-server-0123456789';
    const { code, log } = await msiexec(['/i', wine.windowsPath(msi), `SERVER=${server.url}`, `TOKEN=${unknown}`, `FINGERPRINT=${server.caFingerprint}`], 'refused-token.log');
    expect(code).to.not.equal(0);
    expect(log).to.include(`Portcullis: Enrollment with ${server.url} failed:`);
    expect(log).to.include('enrollment token invalid, expired or revoked');
    expect(log).to.include('Nothing was installed. Check SERVER, FINGERPRINT and TOKEN');
    expect(await exists(join(installDir(), 'portcullis-agent.exe'))).to.equal(false);
    expect(await exists(join(dataDir(), 'enroll-token.tmp')), 'the token file').to.equal(false);
    expect(await server.agentIds()).to.deep.equal([]);
  });

  it('installs silently and enrolls with SERVER, TOKEN and FINGERPRINT', async () => {
    firstToken = await server.enrollmentToken();
    const { code, log } = await msiexec(['/i', wine.windowsPath(msi), `SERVER=${server.url}`, `TOKEN=${firstToken}`, `FINGERPRINT=${server.caFingerprint}`], 'install.log');
    expect(code, log.slice(-3000)).to.equal(0);
    const agents = await server.agentIds();
    expect(agents).to.have.length(1);
    agentId = agents[0] ?? '';
    expect(log).to.include(`Portcullis: Enrollment with ${server.url}:`);
    expect(log).to.include(`Enrolled as ${agentId} in group default; state in C:\\ProgramData\\Portcullis\\agent`);
    expect(await sha256File(join(installDir(), 'portcullis-agent.exe'))).to.equal(exe.sha256);
    for (const file of ['PortcullisAgentService.exe', 'PortcullisAgentService.exe.config', 'PortcullisAgentService.xml', 'WinSW-LICENSE.txt']) {
      expect(await exists(join(installDir(), file)), file).to.equal(true);
    }
    expect(await exists(join(dataDir(), 'agent', 'identity.json')), 'the identity').to.equal(true);
    expect(await exists(join(dataDir(), 'logs')), "WinSW's log folder").to.equal(true);
    // The token's file and the output are deleted once read.
    expect(await exists(join(dataDir(), 'enroll-token.tmp'))).to.equal(false);
    expect(await exists(join(dataDir(), 'enroll-output.log'))).to.equal(false);
  });

  it('registers the PortcullisAgent service: automatic, own process, LocalSystem, running WinSW', async () => {
    const { code, stdout } = await wine.run('reg', ['query', SERVICE_KEY]);
    expect(code, stdout).to.equal(0);
    expect(stdout).to.match(/ImagePath\s+REG_SZ\s+"?C:\\Program Files\\Portcullis\\PortcullisAgentService\.exe"?\s*$/m);
    expect(stdout).to.match(/Start\s+REG_DWORD\s+0x2\s*$/m);
    expect(stdout).to.match(/Type\s+REG_DWORD\s+0x10\s*$/m);
    expect(stdout).to.match(/ObjectName\s+REG_SZ\s+LocalSystem\s*$/m);
  });

  it('never puts the token on a command line: only the end-of-log property list has it', async () => {
    const log = await readFile(drive('install.log'), 'utf8');
    expect(firstToken).to.match(/^pct_/);
    const lines = log.split(/\r?\n/).filter((l) => l.includes(firstToken));
    // Wine lists every property when the installation ends and ignores MsiHiddenProperties.
    expect(lines.map((l) => l.replace(/ = .*/, ''))).to.have.members(['Property(S): TOKEN', 'Property(S): PortcullisWriteToken']);
  });

  it('refuses removal without the uninstall code and says how to get one', async () => {
    const { code, log } = await msiexec(['/x', wine.windowsPath(msi)], 'remove-refused.log');
    expect(code).to.not.equal(0);
    expect(log).to.include('Portcullis: The uninstall check failed:');
    expect(log).to.include('removal of the Portcullis agent needs an uninstall code');
    expect(log).to.include(`msiexec /x {${productCode(VERSION)}} UNINSTALLCODE=XXXX-XXXX-XXXX`);
    expect(await exists(join(installDir(), 'portcullis-agent.exe')), 'the agent').to.equal(true);
    expect(await exists(join(dataDir(), 'agent', 'identity.json')), 'the identity').to.equal(true);
  });

  it("removes the agent with the console's uninstall code, deletes its data, and the server hears of it", async () => {
    const issued = await server.call('POST', `/api/v1/agents/${agentId}/uninstall-code`);
    expect(issued.status).to.equal(201);
    const uninstallCode = (issued.json as { code: string }).code;
    const { code, log } = await msiexec(['/x', wine.windowsPath(msi), `UNINSTALLCODE=${uninstallCode}`], 'remove.log');
    expect(code, log.slice(-3000)).to.equal(0);
    expect(log).to.include('the uninstall code is valid');
    expect(await exists(installDir())).to.equal(false);
    expect(await exists(dataDir())).to.equal(false);
    expect((await wine.run('reg', ['query', SERVICE_KEY])).code, 'the service is deleted').to.not.equal(0);
    expect(await server.eventTypes(agentId)).to.include('agent.uninstalled');
  });

  it('with FORCEREMOVE=1 removes it without a code, after telling the server', async () => {
    const token = await server.enrollmentToken();
    const installed = await msiexec(['/i', wine.windowsPath(msi), `SERVER=${server.url}`, `TOKEN=${token}`, `FINGERPRINT=${server.caFingerprint}`], 'reinstall.log');
    expect(installed.code, installed.log.slice(-3000)).to.equal(0);
    const forcedAgent = (await server.agentIds()).find((id) => id !== agentId) ?? '';
    expect(forcedAgent).to.not.equal('');
    const { code, log } = await msiexec(['/x', wine.windowsPath(msi), 'FORCEREMOVE=1'], 'remove-forced.log');
    expect(code, log.slice(-3000)).to.equal(0);
    expect(log).to.include('forced removal');
    expect(await exists(installDir())).to.equal(false);
    expect(await server.eventTypes(forcedAgent)).to.include('agent.uninstall');
  });

  it('upgrades an enrolled agent to the next version, keeping its identity', async () => {
    const token = await server.enrollmentToken();
    const installed = await msiexec(['/i', wine.windowsPath(msi), `SERVER=${server.url}`, `TOKEN=${token}`, `FINGERPRINT=${server.caFingerprint}`], 'before-upgrade.log');
    expect(installed.code, installed.log.slice(-3000)).to.equal(0);
    const identity = await readFile(join(dataDir(), 'agent', 'identity.json'), 'utf8');
    // No UNINSTALLCODE. Wine's RemoveExistingProducts goes on whatever the old version's removal
    // answers, so this shows the upgrade, not that the uninstall check stays out of it: the
    // check's condition (NOT UPGRADINGPRODUCTCODE) is read in the msi-build test.
    const { code, log } = await msiexec(['/i', wine.windowsPath(nextMsi)], 'upgrade.log');
    expect(code, log.slice(-3000)).to.equal(0);
    expect(await readFile(join(dataDir(), 'agent', 'identity.json'), 'utf8')).to.equal(identity);
    expect(await exists(join(installDir(), 'portcullis-agent.exe'))).to.equal(true);
    const products = await wine.run('reg', ['query', 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall', '/s']);
    // The old version is gone from Programs and Features; only the new one is there.
    const versions = products.stdout.split(/\r?\n/).filter((l) => /DisplayVersion/.test(l)).map((l) => l.trim().split(/\s+/).pop());
    expect(versions).to.deep.equal([nextVersion(VERSION)]);
  });
});

/** The version after this one: the build number plus one. */
function nextVersion(version: string): string {
  const [major, minor, build] = version.split('.').map(Number);
  return `${major}.${minor}.${(build ?? 0) + 1}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
