import { expect } from 'chai';
import {
  DPKG_QUERY_ARGS,
  execFileRunner,
  PackageManagerSoftwareLister,
  parsePackageList,
  RPM_QUERY_ARGS,
  type CommandRunner,
  type RunResult,
} from '../src/inventory/software-lister.js';

describe('inventory software: parsePackageList', () => {
  const rows: Array<{ name: string; text: string; packages: Array<[string, string]>; skipped: number }> = [
    // dpkg-query with the status column; the trailing space of "ii " is dpkg's own.
    { name: 'dpkg lines', text: 'adduser\t3.134\tii \nlibc6\t2.36-9+deb12u4\tii \n', packages: [['adduser', '3.134'], ['libc6', '2.36-9+deb12u4']], skipped: 0 },
    // Removed with config files left (rc) and known-but-absent (un, often no version): not installed, not errors.
    { name: 'dpkg rc and un', text: 'old-tool\t1.0-1\trc \nghost\t\tun \nbash\t5.2.15-2+b2\tii \n', packages: [['bash', '5.2.15-2+b2']], skipped: 0 },
    // Unpacked, half-configured, on hold: the files are on disk, so they count.
    { name: 'dpkg iU, iF, hi', text: 'a\t1\tiU \nb\t1\tiF \nc\t1\thi \n', packages: [['a', '1'], ['b', '1'], ['c', '1']], skipped: 0 },
    // rpm has no status column.
    { name: 'rpm lines', text: 'bash\t5.2.15-5.fc39\ngpg-pubkey\t18b8e74c-62f2920f\n', packages: [['bash', '5.2.15-5.fc39'], ['gpg-pubkey', '18b8e74c-62f2920f']], skipped: 0 },
    // Windows line ends and blank lines are harmless.
    { name: 'CRLF and blank lines', text: 'zlib\t1.2.13\r\n\r\n\n', packages: [['zlib', '1.2.13']], skipped: 0 },
    // Sorted by name whatever order the tool printed.
    { name: 'unsorted input', text: 'zsh\t5.9\nawk\t1\nmawk\t1.3.4\n', packages: [['awk', '1'], ['mawk', '1.3.4'], ['zsh', '5.9']], skipped: 0 },
    // Two lines for one package (multi-arch) are one entry.
    { name: 'exact duplicates', text: 'libc6\t2.36\tii \nlibc6\t2.36\tii \n', packages: [['libc6', '2.36']], skipped: 0 },
    // Malformed: no tab, empty name, empty version, spaces in a field, too many columns, bad status, overlong name.
    {
      name: 'malformed lines',
      text: [
        'no-tab-here',
        '\t1.0',
        'name-only\t',
        'has space\t1.0',
        'a\tb\tii\textra',
        'pkg\t1.0\tZZ',
        `${'n'.repeat(201)}\t1.0`,
        'good\t2.0',
      ].join('\n'),
      packages: [['good', '2.0']],
      skipped: 7,
    },
    { name: 'empty output', text: '', packages: [], skipped: 0 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const parsed = parsePackageList(row.text);
      expect(parsed.packages.map((p) => [p.name, p.version])).to.deep.equal(row.packages);
      expect(parsed.skipped).to.equal(row.skipped);
    });
  }
});

/** A runner answering from a table and recording what was run. */
function scriptedRunner(answers: Record<string, RunResult>): CommandRunner & { calls: Array<{ file: string; args: readonly string[] }> } {
  const calls: Array<{ file: string; args: readonly string[] }> = [];
  const run: CommandRunner = async (file, args) => {
    calls.push({ file, args });
    const answer = answers[file];
    if (!answer) throw new Error(`unexpected command ${file}`);
    return answer;
  };
  return Object.assign(run, { calls });
}

describe('inventory software: PackageManagerSoftwareLister', () => {
  it('uses dpkg-query when it answers, asking for the status column', async () => {
    const run = scriptedRunner({ 'dpkg-query': { status: 'ok', stdout: 'bash\t5.2\tii \n' } });
    const list = await new PackageManagerSoftwareLister({ run }).list();
    expect(list).to.deep.equal({ source: 'dpkg', packages: [{ name: 'bash', version: '5.2' }], skipped: 0 });
    expect(run.calls).to.deep.equal([{ file: 'dpkg-query', args: DPKG_QUERY_ARGS }]);
  });

  it('falls back to rpm when dpkg-query is missing', async () => {
    const run = scriptedRunner({ 'dpkg-query': { status: 'missing' }, rpm: { status: 'ok', stdout: 'bash\t5.2.15-5.fc39\n' } });
    const list = await new PackageManagerSoftwareLister({ run }).list();
    expect(list.source).to.equal('rpm');
    expect(list.packages).to.deep.equal([{ name: 'bash', version: '5.2.15-5.fc39' }]);
    expect(run.calls.map((c) => c.args)).to.deep.equal([DPKG_QUERY_ARGS, RPM_QUERY_ARGS]);
  });

  it('falls back to rpm when dpkg-query is there but fails (dpkg on an rpm system)', async () => {
    const run = scriptedRunner({ 'dpkg-query': { status: 'failed', message: 'dpkg-query exited with status 1' }, rpm: { status: 'ok', stdout: 'x\t1-1\n' } });
    expect((await new PackageManagerSoftwareLister({ run }).list()).source).to.equal('rpm');
  });

  it("reports source 'none' with no packages when neither tool exists", async () => {
    const run = scriptedRunner({ 'dpkg-query': { status: 'missing' }, rpm: { status: 'missing' } });
    expect(await new PackageManagerSoftwareLister({ run }).list()).to.deep.equal({ source: 'none', packages: [], skipped: 0 });
  });

  it('rejects with the failing tool named when a present tool fails and there is no fallback', async () => {
    const run = scriptedRunner({ 'dpkg-query': { status: 'failed', message: 'dpkg-query timed out after 15000 ms' }, rpm: { status: 'missing' } });
    let error: unknown;
    await new PackageManagerSoftwareLister({ run }).list().catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal('could not list installed packages: dpkg-query timed out after 15000 ms');
  });

  it('refuses a timeout that is not a positive integer', () => {
    expect(() => new PackageManagerSoftwareLister({ timeoutMs: 0 })).to.throw(RangeError, /positive integer/);
    expect(() => new PackageManagerSoftwareLister({ timeoutMs: 1.5 })).to.throw(RangeError, /positive integer/);
  });
});

describe('inventory software: execFileRunner', () => {
  it('returns the output of a tool that succeeds', async () => {
    const result = await execFileRunner(process.execPath, ['-e', 'process.stdout.write("a\\t1\\n")'], { timeoutMs: 10_000 });
    expect(result).to.deep.equal({ status: 'ok', stdout: 'a\t1\n' });
  });

  it("says 'missing' for a tool that is not installed", async () => {
    expect(await execFileRunner('portcullis-no-such-tool', [], { timeoutMs: 10_000 })).to.deep.equal({ status: 'missing' });
  });

  it('kills a tool that outlives its timeout and says so', async () => {
    const result = await execFileRunner(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { timeoutMs: 200 });
    expect(result).to.deep.equal({ status: 'failed', message: `${process.execPath} timed out after 200 ms` });
  });

  it('names the exit status and the first line of stderr of a tool that fails', async () => {
    const result = await execFileRunner(process.execPath, ['-e', 'console.error("no database\\nmore"); process.exit(3)'], { timeoutMs: 10_000 });
    expect(result).to.deep.equal({ status: 'failed', message: `${process.execPath} exited with status 3: no database` });
  });

  it('lists the packages of this machine (Debian: dpkg)', async () => {
    const list = await new PackageManagerSoftwareLister().list();
    expect(list.source).to.be.oneOf(['dpkg', 'rpm']);
    expect(list.packages.length).to.be.greaterThan(0);
    expect(list.packages.some((p) => p.name === 'bash')).to.equal(true);
  });
});
