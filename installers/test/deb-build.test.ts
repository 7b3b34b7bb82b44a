/**
 * The .deb as built from the real single-file agent: its name, control fields, files and modes,
 * conffiles, maintainer scripts, compressed documents, lintian's verdict, the systemd unit's
 * content and exposure score, the libraries the binary needs against the package's Depends, and
 * the reuse of an up-to-date package. (Bad input: deb-control.test.ts.)
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { buildDeb, DEBIAN_ASSETS_DIR } from '../src/deb/build-deb.js';
import { agentDeb, run, TOOL_ENV, type RunResult } from './deb-support.js';

async function tool(file: string, args: readonly string[]): Promise<RunResult> {
  const r = await run(file, args, TOOL_ENV);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** `[Service]` directives of a unit file, each with all its values (continuation lines joined). */
function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.replace(/\\\n\s*/g, ' ').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    map.set(m[1], [...(map.get(m[1]) ?? []), m[2].trim()]);
  }
  return map;
}

describe('deb: the package built from the single-file agent', function () {
  this.timeout(600_000);
  let deb: string;
  let binary: string;
  let tree: string;

  before(async () => {
    ({ deb, binary } = await agentDeb());
    tree = await mkdtemp(join(tmpdir(), 'portcullis-deb-tree-'));
    await tool('dpkg-deb', ['-x', deb, tree]);
  });
  after(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  it('is installers/out/portcullis-agent_<version>_amd64.deb', () => {
    expect(deb).to.match(new RegExp(`/installers/out/portcullis-agent_${VERSION.replaceAll('.', '\\.')}_amd64\\.deb$`));
  });

  it('has the control fields of an amd64 admin package', async () => {
    const fields = ['Package', 'Version', 'Architecture', 'Depends', 'Recommends', 'Section', 'Priority', 'Maintainer'];
    const { stdout } = await tool('dpkg-deb', ['-f', deb, ...fields]);
    expect(stdout).to.equal(
      [
        'Package: portcullis-agent',
        `Version: ${VERSION}`,
        'Architecture: amd64',
        'Depends: libc6 (>= 2.28), libgcc-s1 (>= 3.4), libstdc++6 (>= 5.2), udev',
        'Recommends: nftables',
        'Section: admin',
        'Priority: optional',
        'Maintainer: Portcullis maintainers <portcullis@example.org>',
        '',
      ].join('\n'),
    );
    const size = Number((await tool('dpkg-deb', ['-f', deb, 'Installed-Size'])).stdout);
    const binaryKiB = Math.ceil((await stat(join(tree, 'usr/bin/portcullis-agent'))).size / 1024);
    // The binary is nearly all of it.
    expect(size).to.be.within(binaryKiB, binaryKiB + 64);
    // Asked for one field, dpkg-deb prints its value alone.
    const description = (await tool('dpkg-deb', ['-f', deb, 'Description'])).stdout.split('\n');
    expect(description[0]).to.equal('Portcullis endpoint agent: USB and port control');
    expect(description.length).to.be.greaterThan(8);
    for (const line of description) expect(line.length, line).to.be.at.most(80);
  });

  it('ships exactly these files, all root:root, with these modes', async () => {
    const { stdout } = await tool('dpkg-deb', ['-c', deb]);
    const files = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/))
      .filter((cols) => !cols[0]?.startsWith('d'))
      .map((cols) => `${cols[0]} ${cols[1]} ${cols[5]}`);
    expect(files).to.deep.equal([
      // The only configuration file; this version reads nothing in it (see its _comment).
      '-rw-r--r-- root/root ./etc/portcullis/agent.json',
      // The watchdog's pair: a oneshot service and the timer that runs it every minute.
      '-rw-r--r-- root/root ./lib/systemd/system/portcullis-agent-watchdog.service',
      '-rw-r--r-- root/root ./lib/systemd/system/portcullis-agent-watchdog.timer',
      // The agent's service.
      '-rw-r--r-- root/root ./lib/systemd/system/portcullis-agent.service',
      // The single-file agent: executable by all, writable by root alone.
      '-rwxr-xr-x root/root ./usr/bin/portcullis-agent',
      // The watchdog's check, run by portcullis-agent-watchdog.service.
      '-rwxr-xr-x root/root ./usr/libexec/portcullis-agent/watchdog',
      // A native package's changelog is changelog.gz (policy 12.7).
      '-rw-r--r-- root/root ./usr/share/doc/portcullis-agent/changelog.gz',
      '-rw-r--r-- root/root ./usr/share/doc/portcullis-agent/copyright',
      // The overrides lintian reads, each with its reason.
      '-rw-r--r-- root/root ./usr/share/lintian/overrides/portcullis-agent',
      '-rw-r--r-- root/root ./usr/share/man/man8/portcullis-agent.8.gz',
    ]);
    const dirs = stdout.split('\n').filter((line) => line.startsWith('d'));
    for (const line of dirs) expect(line, line).to.match(/^drwxr-xr-x root\/root /);
  });

  it('has agent.json as its conffile, executable maintainer scripts and md5sums that match the files', async () => {
    const { stdout: conffiles } = await tool('dpkg-deb', ['-I', deb, 'conffiles']);
    expect(conffiles).to.equal('/etc/portcullis/agent.json\n');
    const control = await run('sh', ['-c', 'dpkg-deb --ctrl-tarfile "$0" | tar -tvf -', deb], TOOL_ENV);
    const modes = control.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('d'))
      .map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/)[5]}`);
    expect(modes).to.have.members(['-rw-r--r-- ./conffiles', '-rw-r--r-- ./control', '-rw-r--r-- ./md5sums', '-rwxr-xr-x ./postinst', '-rwxr-xr-x ./postrm', '-rwxr-xr-x ./prerm']);
    const { stdout: md5sums } = await tool('dpkg-deb', ['-I', deb, 'md5sums']);
    await writeFile(join(tree, 'md5sums'), md5sums);
    const checked = await run('sh', ['-c', 'cd "$0" && md5sum --check --strict md5sums', tree], TOOL_ENV);
    expect(checked.code, checked.stdout + checked.stderr).to.equal(0);
    // Every shipped file but the md5sums file itself is listed.
    expect(md5sums.trim().split('\n')).to.have.length(10);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const syntax = await run('sh', ['-n', join(DEBIAN_ASSETS_DIR, script)], TOOL_ENV);
      expect(syntax.code, `${script}: ${syntax.stderr}`).to.equal(0);
    }
  });

  it('ships the changelog and man page gzip -9n: best compression, no timestamp', async () => {
    for (const file of ['usr/share/doc/portcullis-agent/changelog.gz', 'usr/share/man/man8/portcullis-agent.8.gz']) {
      const bytes = await readFile(join(tree, file));
      // RFC 1952 header: MTIME (bytes 4-7) zero, XFL (byte 8) 2 = maximum compression.
      expect(bytes.readUInt32LE(4), file).to.equal(0);
      expect(bytes[8], file).to.equal(2);
    }
    const changelog = gunzipSync(await readFile(join(tree, 'usr/share/doc/portcullis-agent/changelog.gz'))).toString('utf8');
    expect(changelog).to.match(new RegExp(`^portcullis-agent \\(${VERSION.replaceAll('.', '\\.')}\\) unstable; urgency=medium\n`));
  });

  it('passes lintian: no error, no warning, only the two overrides it justifies', async () => {
    const result = await run('lintian', ['--show-overrides', '--tag-display-limit', '0', deb], TOOL_ENV);
    const tags = result.stdout.split('\n').filter((l) => /^[EWIO]: /.test(l));
    expect(tags.filter((t) => /^[EW]: /.test(t)), result.stdout).to.deep.equal([]);
    expect(tags.filter((t) => t.startsWith('O: '))).to.deep.equal([
      // Node.js's own zlib, statically linked into the official binary the agent is built on.
      'O: portcullis-agent: embedded-library zlib [usr/bin/portcullis-agent]',
      // The official Node.js release binaries are not PIE.
      'O: portcullis-agent: hardening-no-pie [usr/bin/portcullis-agent]',
    ]);
    // Each override follows the comment that justifies it.
    const overrides = (await readFile(join(tree, 'usr/share/lintian/overrides/portcullis-agent'), 'utf8')).split('\n');
    overrides.forEach((line, i) => {
      if (line.startsWith('portcullis-agent:')) expect(overrides[i - 1], line).to.match(/^# /);
    });
    // With --show-overrides lintian exits 2 for the overridden error; its output is the verdict.
    expect(result.code, result.stderr).to.be.oneOf([0, 2]);
    expect(result.stderr).to.not.match(/^(E|W|internal error)/m);
  });

  describe('the service unit', () => {
    let unit: string;
    let service: Map<string, string[]>;
    before(async () => {
      unit = await readFile(join(tree, 'lib/systemd/system/portcullis-agent.service'), 'utf8');
      service = directives(unit);
    });

    const rows: { key: string; value: string; why: string }[] = [
      { key: 'ExecStart', value: '/usr/bin/portcullis-agent run --state /var/lib/portcullis --log-stderr', why: 'the state folder, the log to the journal' },
      { key: 'After', value: 'systemd-udevd.service', why: 'not after network-online: the ports are guarded from early boot' },
      { key: 'Type', value: 'simple', why: 'no sd_notify from Node' },
      { key: 'Restart', value: 'always', why: 'a stopped agent protects nothing' },
      { key: 'RestartSec', value: '2', why: 'back within seconds' },
      { key: 'StartLimitIntervalSec', value: '0', why: 'never gives up restarting' },
      { key: 'Environment', value: 'PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8', why: 'an explicit, clean environment' },
      { key: 'StateDirectory', value: 'portcullis', why: '/var/lib/portcullis' },
      { key: 'StateDirectoryMode', value: '0700', why: 'the identity holds a secret' },
      { key: 'UMask', value: '0077', why: 'files the agent makes are 0600' },
      { key: 'NoNewPrivileges', value: 'yes', why: 'no setuid gains' },
      { key: 'ProtectSystem', value: 'strict', why: 'all read-only but what follows' },
      { key: 'ReadWritePaths', value: '/sys/devices', why: 'authorized, remove and rfkill soft live there' },
      { key: 'ProtectKernelTunables', value: 'yes', why: '/sys read-only but /sys/devices, /proc/sys read-only' },
      { key: 'ProtectHome', value: 'read-only', why: 'mail profiles are read' },
      { key: 'PrivateTmp', value: 'yes', why: 'its own /tmp' },
      { key: 'ProtectKernelModules', value: 'yes', why: 'no module loading' },
      { key: 'ProtectControlGroups', value: 'yes', why: 'no cgroup changes' },
      { key: 'RestrictSUIDSGID', value: 'yes', why: 'no setuid files' },
      { key: 'LockPersonality', value: 'yes', why: 'no personality changes' },
      { key: 'RestrictAddressFamilies', value: 'AF_UNIX AF_INET AF_INET6 AF_NETLINK', why: 'IP, netlink for nft and udevadm, unix' },
      { key: 'CapabilityBoundingSet', value: 'CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYSLOG CAP_DAC_READ_SEARCH', why: 'the minimal set' },
      { key: 'LimitCORE', value: '0', why: 'no core dump with the secret in it' },
      { key: 'WantedBy', value: 'multi-user.target', why: 'starts at boot' },
    ];
    for (const row of rows) {
      it(`${row.key}=${row.value} (${row.why})`, () => {
        expect(service.get(row.key), row.key).to.deep.equal([row.value]);
      });
    }

    it('unsets the variables Node.js, OpenSSL and the dynamic linker obey, and the installer secrets', () => {
      const unset = (service.get('UnsetEnvironment') ?? []).join(' ').split(/\s+/);
      for (const name of ['NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'NODE_TLS_REJECT_UNAUTHORIZED', 'OPENSSL_CONF', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'PORTCULLIS_TOKEN', 'PORTCULLIS_UNINSTALL_CODE']) {
        expect(unset, name).to.include(name);
      }
    });

    it('leaves off what would break the agent, each with its reason, and explains every capability', () => {
      for (const key of ['MemoryDenyWriteExecute', 'PrivateDevices', 'DeviceAllow', 'ProtectClock', 'ProtectKernelLogs', 'ProtectHostname', 'WatchdogSec']) {
        expect(service.has(key), key).to.equal(false);
        expect(unit, key).to.match(new RegExp(`^#.*${key}`, 'm'));
      }
      for (const cap of (service.get('CapabilityBoundingSet') ?? [])[0]?.split(' ') ?? []) {
        expect(unit, cap).to.match(new RegExp(`^#\\s+${cap}\\s+\\S.*`, 'm'));
      }
    });

    it('scores at most 4.0 ("OK") in systemd-analyze security', async () => {
      const result = await run('systemd-analyze', ['security', '--offline=true', `--root=${tree}`, 'portcullis-agent.service'], TOOL_ENV);
      const score = /Overall exposure level for portcullis-agent\.service: (\d+\.\d)/.exec(result.stdout);
      expect(score, result.stdout + result.stderr).to.not.equal(null);
      expect(Number(score?.[1])).to.be.at.most(4.0);
    });
  });

  it('depends on every library the binary links, at the versions its symbols need', async () => {
    const shipped = join(tree, 'usr/bin/portcullis-agent');
    const { stdout: headers } = await tool('objdump', ['-p', shipped]);
    const needed = [...headers.matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]).sort();
    // libc6 ships libc, libm, libdl, libpthread and the loader; libgcc-s1 libgcc_s; libstdc++6 libstdc++.
    expect(needed).to.deep.equal(['ld-linux-x86-64.so.2', 'libc.so.6', 'libdl.so.2', 'libgcc_s.so.1', 'libm.so.6', 'libpthread.so.0', 'libstdc++.so.6']);
    const { stdout: symbols } = await tool('objdump', ['-T', shipped]);
    const highest = (prefix: string): number[] =>
      [...symbols.matchAll(new RegExp(`${prefix}_(\\d+(?:\\.\\d+)*)`, 'g'))]
        .map((m) => (m[1] ?? '').split('.').map(Number))
        .reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b), [0]);
    // Depends: libc6 (>= 2.28), libstdc++6 (>= 5.2) (GLIBCXX_3.4.21 is GCC 5's), libgcc-s1 (>= 3.4).
    expect(compareVersions(highest('GLIBC'), [2, 28])).to.be.at.most(0);
    expect(compareVersions(highest('GLIBCXX'), [3, 4, 21])).to.be.at.most(0);
    expect(compareVersions(highest('GCC'), [3, 4])).to.be.at.most(0);
  });

  it('is reused, not rebuilt, when nothing it is made from changed', async () => {
    const before = (await stat(deb)).mtimeMs;
    const lines: string[] = [];
    const again = await buildDeb({ binary, outDir: join(deb, '..'), version: VERSION, log: (l) => lines.push(l) });
    expect(again).to.equal(deb);
    expect(lines).to.deep.equal([`deb: ${deb} is up to date`]);
    expect((await stat(deb)).mtimeMs).to.equal(before);
  });
});

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
