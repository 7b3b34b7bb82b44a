/**
 * The .deb installed for real with dpkg inside a throwaway Debian 12 root (debootstrap minbase,
 * chroot), against a real Portcullis server on loopback: silent enrollment from the environment
 * and from /etc/portcullis/enroll.env, an install without enrollment, a failed enrollment that
 * leaves the package usable, the tamper protection (removal refused without a code, allowed with
 * the console's code or forced by root with the server told first), upgrades without a code, and
 * purge (state, configuration and the nftables table gone); and, with a stand-in systemctl, what
 * the scripts ask of systemd where it runs; and the console's one-line install command, run as shown.
 *
 * The cases run in order on one root: each starts from the state the previous one left.
 */
import { expect } from 'chai';
import { chmod, copyFile, lstat, mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { debFileName, debInstallCommand } from '@portcullis/shared';
import { agentDeb, ChrootRoot, TestServer, type RunResult } from './deb-support.js';

const PKG = '/tmp/portcullis-agent.deb';

describe('deb: installed with dpkg in a Debian 12 chroot', function () {
  this.timeout(600_000);
  let root: ChrootRoot;
  let server: TestServer;
  let agentId = '';

  const dpkg = (args: string[], env: Record<string, string> = {}): Promise<RunResult> => root.exec(['dpkg', ...args], env);
  const status = async (): Promise<string> => (await root.exec(['dpkg-query', '--show', '--showformat=${db:Status-Abbrev}${Version}', 'portcullis-agent'])).stdout.trim();
  const mode = async (path: string): Promise<number> => (await stat(root.path(path))).mode & 0o7777;
  const exists = async (path: string): Promise<boolean> => lstat(root.path(path)).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  const identity = async (): Promise<{ agentId: string }> => JSON.parse(await readFile(root.path('var/lib/portcullis/identity.json'), 'utf8')) as { agentId: string };
  const enrollEnv = async (overrides: Record<string, string> = {}): Promise<Record<string, string>> => ({
    PORTCULLIS_SERVER: server.url,
    PORTCULLIS_TOKEN: await server.enrollmentToken(),
    PORTCULLIS_FINGERPRINT: server.caFingerprint,
    ...overrides,
  });

  before(async () => {
    const { deb } = await agentDeb();
    [root, server] = await Promise.all([ChrootRoot.create(), TestServer.start()]);
    await copyFile(deb, root.path(PKG));
  });
  after(async () => {
    await server?.stop();
    await root?.cleanup();
  });

  it('installs without enrollment variables: files, modes, units enabled for the next boot, and how to enroll', async () => {
    const result = await dpkg(['-i', PKG]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(await status()).to.equal(`ii ${VERSION}`);
    expect(result.stdout).to.contain('portcullis-agent: installed, not enrolled. To enroll this computer');
    expect(result.stdout).to.contain('PORTCULLIS_ENROLL_TOKEN=TOKEN portcullis-agent enroll --server https://SERVER:8443');
    expect(result.stdout).to.contain('systemd is not running here (a container or chroot?): the service starts at the next boot');

    const rows: { path: string; mode: number }[] = [
      { path: 'usr/bin/portcullis-agent', mode: 0o755 },
      { path: 'usr/libexec/portcullis-agent/watchdog', mode: 0o755 },
      { path: 'lib/systemd/system/portcullis-agent.service', mode: 0o644 },
      { path: 'etc/portcullis/agent.json', mode: 0o644 },
      // Made by postinst: the identity's secret will live here.
      { path: 'var/lib/portcullis', mode: 0o700 },
    ];
    for (const row of rows) {
      expect(await mode(row.path), row.path).to.equal(row.mode);
      expect((await stat(root.path(row.path))).uid, row.path).to.equal(0);
    }
    expect(await exists('var/lib/portcullis/identity.json')).to.equal(false);
    // deb-systemd-helper enabled both units without a running systemd.
    expect(await readlink(root.path('etc/systemd/system/multi-user.target.wants/portcullis-agent.service'))).to.equal('/lib/systemd/system/portcullis-agent.service');
    expect(await readlink(root.path('etc/systemd/system/timers.target.wants/portcullis-agent-watchdog.timer'))).to.equal('/lib/systemd/system/portcullis-agent-watchdog.timer');

    const version = await root.exec(['portcullis-agent', '--version']);
    expect(version).to.deep.equal({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('has units that systemd-analyze verify accepts as installed (binaries, targets, directives)', async () => {
    const result = await root.exec(['systemd-analyze', 'verify', '--man=no', 'portcullis-agent.service', 'portcullis-agent-watchdog.service', 'portcullis-agent-watchdog.timer']);
    // An unknown directive or a missing executable is only printed: the output must be empty too.
    expect(result).to.deep.equal({ code: 0, stdout: '', stderr: '' });
  });

  it('a failed enrollment (wrong fingerprint) still installs: the package stays configured, not enrolled', async () => {
    const env = await enrollEnv({ PORTCULLIS_FINGERPRINT: 'AA:'.repeat(31) + 'AA' });
    const result = await dpkg(['-i', PKG], env);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stderr).to.contain("enroll: the server's certificates do not match --fingerprint; nothing was written.");
    expect(result.stderr).to.contain('portcullis-agent: enrollment failed (see above); the agent stays installed, not enrolled');
    expect(result.stdout + result.stderr).to.not.contain(env.PORTCULLIS_TOKEN);
    expect(await status()).to.equal(`ii ${VERSION}`);
    expect(await exists('var/lib/portcullis/identity.json')).to.equal(false);
  });

  it('partial enrollment variables are reported, not half-used', async () => {
    const result = await dpkg(['-i', PKG], { PORTCULLIS_SERVER: server.url });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stderr).to.contain('not enrolled: silent enrollment needs PORTCULLIS_SERVER, PORTCULLIS_TOKEN and PORTCULLIS_FINGERPRINT (missing: PORTCULLIS_TOKEN PORTCULLIS_FINGERPRINT)');
    expect(await status()).to.equal(`ii ${VERSION}`);
  });

  it('purges a computer that is not enrolled without a code, with its state, /etc/portcullis and the nftables table', async () => {
    // In a network namespace of its own, where the test makes the agent's table first.
    const script = 'nft add table inet portcullis_mail && echo "before: $(nft list tables)" && dpkg --purge portcullis-agent; echo "dpkg exit $?"; echo "after: $(nft list tables)"';
    const result = await root.exec(['sh', '-c', script], {}, { ownNetwork: true });
    expect(result.stdout, result.stderr).to.contain('before: table inet portcullis_mail\n');
    expect(result.stdout, result.stderr).to.contain('dpkg exit 0');
    expect(result.stdout).to.contain('this computer is not enrolled');
    expect(result.stdout).to.match(/\nafter: \n$/);
    expect(await status()).to.equal('');
    for (const path of ['var/lib/portcullis', 'etc/portcullis', 'usr/bin/portcullis-agent', 'lib/systemd/system/portcullis-agent.service', 'etc/systemd/system/multi-user.target.wants/portcullis-agent.service']) {
      expect(await exists(path), path).to.equal(false);
    }
  });

  it('installs with PORTCULLIS_SERVER, PORTCULLIS_TOKEN and PORTCULLIS_FINGERPRINT: enrolled, known to the server', async () => {
    const env = await enrollEnv();
    const result = await dpkg(['-i', PKG], env);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/Enrolled as \S+ in group default; state in \/var\/lib\/portcullis/);
    expect(result.stdout + result.stderr).to.not.contain(env.PORTCULLIS_TOKEN);
    expect(result.stdout).to.not.contain('installed, not enrolled');
    expect(await mode('var/lib/portcullis/identity.json')).to.equal(0o600);
    expect(await mode('var/lib/portcullis')).to.equal(0o700);
    agentId = (await identity()).agentId;
    expect(await server.agentIds()).to.include(agentId);
  });

  it('refuses removal without an uninstall code: dpkg fails and the agent stays installed and enrolled', async () => {
    const result = await dpkg(['--remove', 'portcullis-agent']);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain('portcullis-agent: removal refused (tamper protection).');
    expect(result.stderr).to.contain('PORTCULLIS_UNINSTALL_CODE=CODE dpkg -r portcullis-agent');
    // Still installed and configured (i, no error flag); dpkg remembers the wish to remove it (r).
    expect(await status()).to.equal(`ri ${VERSION}`);
    expect(await mode('usr/bin/portcullis-agent')).to.equal(0o755);
    expect((await identity()).agentId).to.equal(agentId);
  });

  it('refuses a wrong uninstall code the same way', async () => {
    const result = await dpkg(['--remove', 'portcullis-agent'], { PORTCULLIS_UNINSTALL_CODE: 'AAAA-BBBB-CCCC' });
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain('removal refused');
    expect(await status()).to.equal(`ri ${VERSION}`);
  });

  it('upgrades (reinstalls) without a code, keeping the identity; enrollment variables are then ignored', async () => {
    const plain = await dpkg(['-i', PKG]);
    expect(plain.code, plain.stdout + plain.stderr).to.equal(0);
    const env = await enrollEnv();
    const again = await dpkg(['-i', PKG], env);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
    expect(again.stdout).to.contain('already enrolled (/var/lib/portcullis/identity.json): PORTCULLIS_SERVER, PORTCULLIS_TOKEN and PORTCULLIS_FINGERPRINT ignored');
    expect(await status()).to.equal(`ii ${VERSION}`);
    expect((await identity()).agentId).to.equal(agentId);
  });

  it("removes with the console's uninstall code: the server hears of it, the state stays for a reinstall", async () => {
    const issued = await server.call('POST', `/api/v1/agents/${agentId}/uninstall-code`);
    expect(issued.status, JSON.stringify(issued.json)).to.equal(201);
    const code = (issued.json as { code: string }).code;
    // The chroot has no sysfs mounted: stand-in root hubs, closed as the agent leaves them.
    const hubs = ['usb1', 'usb2'].map((hub) => root.path(`sys/bus/usb/devices/${hub}`));
    for (const hub of hubs) {
      await mkdir(hub, { recursive: true });
      await writeFile(join(hub, 'authorized_default'), '0\n');
    }
    const result = await dpkg(['--remove', 'portcullis-agent'], { PORTCULLIS_UNINSTALL_CODE: code });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout + result.stderr).to.not.contain(code);
    // Removed, its conffile kept until a purge.
    expect(await status()).to.equal(`rc ${VERSION}`);
    expect(await exists('usr/bin/portcullis-agent')).to.equal(false);
    expect(await exists('var/lib/portcullis/identity.json')).to.equal(true);
    expect(await server.eventTypes(agentId)).to.include('agent.uninstalled');
    // Without the agent nothing decides new devices: the hubs are open again (the kernel's default).
    for (const hub of hubs) expect(await readFile(join(hub, 'authorized_default'), 'utf8'), hub).to.equal('1\n');
    await rm(root.path('sys/bus'), { recursive: true, force: true });

    const reinstalled = await dpkg(['-i', PKG]);
    expect(reinstalled.code, reinstalled.stdout + reinstalled.stderr).to.equal(0);
    expect((await identity()).agentId).to.equal(agentId);
  });

  it('purges when root forces it (PORTCULLIS_FORCE_REMOVE=1): the server has the event before the state goes', async () => {
    const result = await dpkg(['--purge', 'portcullis-agent'], { PORTCULLIS_FORCE_REMOVE: '1' });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.contain('the server acknowledged the agent.uninstall event');
    expect(await server.eventTypes(agentId)).to.include('agent.uninstall');
    expect(await status()).to.equal('');
    for (const path of ['var/lib/portcullis', 'etc/portcullis', 'usr/bin/portcullis-agent']) expect(await exists(path), path).to.equal(false);
  });

  it('enrolls from /etc/portcullis/enroll.env (quoted values, CRLF lines) and deletes the file', async () => {
    const env = await enrollEnv();
    const lines = ['# written by the deployment tool', `PORTCULLIS_SERVER="${env.PORTCULLIS_SERVER}"`, `PORTCULLIS_TOKEN='${env.PORTCULLIS_TOKEN}'`, `PORTCULLIS_FINGERPRINT=${env.PORTCULLIS_FINGERPRINT}`];
    await root.exec(['mkdir', '-p', '/etc/portcullis']);
    await writeFile(root.path('etc/portcullis/enroll.env'), lines.join('\r\n') + '\r\n');
    await chmod(root.path('etc/portcullis/enroll.env'), 0o600);
    const result = await dpkg(['-i', PKG]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/Enrolled as \S+ in group default/);
    expect(await exists('etc/portcullis/enroll.env')).to.equal(false);
    expect(await server.agentIds()).to.include((await identity()).agentId);
    const purged = await dpkg(['--purge', 'portcullis-agent'], { PORTCULLIS_FORCE_REMOVE: '1' });
    expect(purged.code, purged.stdout + purged.stderr).to.equal(0);
  });

  it('ignores (and deletes) an enroll.env that other users can read', async () => {
    const env = await enrollEnv();
    await root.exec(['mkdir', '-p', '/etc/portcullis']);
    const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    await writeFile(root.path('etc/portcullis/enroll.env'), lines.join('\n') + '\n');
    await chmod(root.path('etc/portcullis/enroll.env'), 0o644);
    const result = await dpkg(['-i', PKG]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stderr).to.contain('/etc/portcullis/enroll.env must belong to root with mode 0600 (uid and mode: 0 644): ignored and deleted');
    expect(result.stdout + result.stderr).to.not.contain(env.PORTCULLIS_TOKEN);
    expect(await exists('etc/portcullis/enroll.env')).to.equal(false);
    expect(await exists('var/lib/portcullis/identity.json')).to.equal(false);
    expect(await status()).to.equal(`ii ${VERSION}`);
  });

  it('where systemd runs, starts an enrolled agent and its watchdog, and stops both on removal', async () => {
    // /run/systemd/system says "systemd is PID 1"; a stand-in systemctl records what is asked.
    await root.exec(['mkdir', '-p', '/run/systemd/system', '/usr/local/bin']);
    const fake = '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\ncase "$*" in *is-enabled*) echo enabled ;; *is-active*) exit 3 ;; esac\n';
    await writeFile(root.path('usr/local/bin/systemctl'), fake);
    await chmod(root.path('usr/local/bin/systemctl'), 0o755);
    const path = { PATH: '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

    const installed = await dpkg(['-i', PKG], { ...(await enrollEnv()), ...path });
    expect(installed.code, installed.stdout + installed.stderr).to.equal(0);
    expect(installed.stdout).to.not.contain('systemd is not running here');
    const atInstall = (await readFile(root.path('tmp/systemctl.log'), 'utf8')).split('\n');
    expect(atInstall).to.include('--system daemon-reload');
    expect(atInstall).to.include('--quiet --system restart portcullis-agent.service portcullis-agent-watchdog.timer');

    await writeFile(root.path('tmp/systemctl.log'), '');
    const purged = await dpkg(['--purge', 'portcullis-agent'], { PORTCULLIS_FORCE_REMOVE: '1', ...path });
    expect(purged.code, purged.stdout + purged.stderr).to.equal(0);
    const atRemoval = (await readFile(root.path('tmp/systemctl.log'), 'utf8')).split('\n');
    expect(atRemoval).to.include('stop portcullis-agent-watchdog.timer portcullis-agent.service');
    expect(atRemoval).to.include('--system daemon-reload');
    await root.exec(['rm', '-r', '/run/systemd/system', '/usr/local/bin/systemctl']);
  });

  it("enrolls with the console's one-line package command, run as shown in root's home (issue 7)", async () => {
    // What the tokens page builds it from: GET /server-info, the browser's address standing in
    // for the URL this server was not told, and a fresh token.
    const info = await server.call('GET', '/api/v1/server-info');
    expect(info.status, JSON.stringify(info.json)).to.equal(200);
    const { caFingerprint256, agentVersion } = info.json as { caFingerprint256: string; agentVersion: string };
    expect({ caFingerprint256, agentVersion }).to.deep.equal({ caFingerprint256: server.caFingerprint, agentVersion: VERSION });
    const token = await server.enrollmentToken();
    const line = debInstallCommand(token, server.url, caFingerprint256, agentVersion);
    // The admin downloaded the package under its own name into the folder `sudo -i` lands in.
    await copyFile(root.path(PKG), root.path(`root/${debFileName(VERSION)}`));

    // The line is handed to sh untouched, as a root shell would read it when pasted.
    const result = await root.exec(['sh', '-c', 'cd /root && exec sh -c "$1"', 'sh', line]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/Enrolled as \S+ in group default; state in \/var\/lib\/portcullis/);
    expect(result.stdout + result.stderr).to.not.contain(token);
    expect(await status()).to.equal(`ii ${VERSION}`);
    expect(await mode('var/lib/portcullis/identity.json')).to.equal(0o600);
    expect(await server.agentIds()).to.include((await identity()).agentId);
    const purged = await dpkg(['--purge', 'portcullis-agent'], { PORTCULLIS_FORCE_REMOVE: '1' });
    expect(purged.code, purged.stdout + purged.stderr).to.equal(0);
  });
});
