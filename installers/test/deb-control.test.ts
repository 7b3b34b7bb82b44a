/**
 * The package's generated text (versions, file name, control, changelog, md5sums) and buildDeb's
 * refusal of bad input before it does any work.
 */
import { expect } from 'chai';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeb } from '../src/deb/build-deb.js';
import {
  changelogDate,
  changelogFile,
  changelogName,
  controlFile,
  debFileName,
  foldParagraph,
  md5sumsFile,
  parseDebVersion,
} from '../src/deb/deb-control.js';

describe('deb: control files', () => {
  describe('parseDebVersion', () => {
    const good: { text: string; expected: ReturnType<typeof parseDebVersion> }[] = [
      // The agent's own version: native, no revision.
      { text: '0.1.0', expected: { epoch: null, upstream: '0.1.0', revision: null } },
      // A Debian revision after the last hyphen.
      { text: '0.1.0-1', expected: { epoch: null, upstream: '0.1.0', revision: '1' } },
      // A hyphen inside the upstream part, possible only with a revision.
      { text: '2.0-rc1-3', expected: { epoch: null, upstream: '2.0-rc1', revision: '3' } },
      // An epoch and a tilde (sorts before the release).
      { text: '1:0.2.0~beta1', expected: { epoch: 1, upstream: '0.2.0~beta1', revision: null } },
    ];
    for (const row of good) {
      it(`reads ${row.text}`, () => expect(parseDebVersion(row.text)).to.deep.equal(row.expected));
    }
    const bad: { text: string; why: string }[] = [
      { text: '', why: 'empty' },
      { text: 'v0.1.0', why: 'upstream must start with a digit' },
      { text: '0.1.0-', why: 'a trailing hyphen leaves an empty revision' },
      { text: '0.1 0', why: 'spaces are not allowed' },
      { text: '0.1.0_1', why: 'underscores separate the file name parts' },
      { text: 'x:0.1.0', why: 'an epoch is a number' },
    ];
    for (const row of bad) {
      it(`refuses ${JSON.stringify(row.text)} (${row.why})`, () => {
        expect(() => parseDebVersion(row.text)).to.throw(/^not a Debian package version: /);
      });
    }
  });

  it('names the file without the epoch', () => {
    expect(debFileName('0.1.0')).to.equal('portcullis-agent_0.1.0_amd64.deb');
    expect(debFileName('1:0.2.0-3')).to.equal('portcullis-agent_0.2.0-3_amd64.deb');
  });

  it('folds the description to lines of at most 79 characters, each starting with a space', () => {
    const lines = foldParagraph('word '.repeat(60));
    expect(lines.length).to.be.greaterThan(3);
    for (const line of lines) {
      expect(line.startsWith(' ')).to.equal(true);
      expect(line.length).to.be.at.most(79);
    }
    expect(lines.join(' ').split(/\s+/).filter((w) => w !== '')).to.have.length(60);
  });

  it('writes the control file, and refuses a bad maintainer or size', () => {
    const text = controlFile({ version: '0.1.0', maintainer: 'Ops Team <ops@example.org>', installedSizeKiB: 86_310 });
    expect(text).to.match(/^Package: portcullis-agent\nVersion: 0\.1\.0\nArchitecture: amd64\nMaintainer: Ops Team <ops@example\.org>\nInstalled-Size: 86310\n/);
    expect(text).to.match(/\n \.\n/);
    expect(text.endsWith('\n')).to.equal(true);
    expect(() => controlFile({ version: '0.1.0', maintainer: 'ops', installedSizeKiB: 1 })).to.throw(/^not a maintainer: "ops"/);
    expect(() => controlFile({ version: '0.1.0', maintainer: 'Ops <ops@example.org>', installedSizeKiB: 0 })).to.throw(/Installed-Size/);
  });

  it('names and dates the changelog as Debian policy wants', () => {
    // A native version has changelog.gz, one with a revision changelog.Debian.gz.
    expect(changelogName('0.1.0')).to.equal('changelog.gz');
    expect(changelogName('0.1.0-2')).to.equal('changelog.Debian.gz');
    expect(changelogDate(new Date('2026-11-25T08:00:00Z'))).to.equal('Wed, 25 Nov 2026 08:00:00 +0000');
    expect(changelogFile('0.1.0', 'Ops <ops@example.org>', new Date('2026-11-25T08:00:00Z'))).to.equal(
      'portcullis-agent (0.1.0) unstable; urgency=medium\n\n  * Portcullis agent 0.1.0, packaged from the single-file agent.\n\n -- Ops <ops@example.org>  Wed, 25 Nov 2026 08:00:00 +0000\n',
    );
  });

  it('writes md5sums sorted, without leading slashes, and refuses a bad digest', () => {
    const a = 'd41d8cd98f00b204e9800998ecf8427e';
    expect(md5sumsFile([{ path: 'usr/bin/b', md5: a }, { path: '/etc/a', md5: a }])).to.equal(`${a}  etc/a\n${a}  usr/bin/b\n`);
    expect(() => md5sumsFile([{ path: 'x', md5: 'nope' }])).to.throw(/^not an md5 digest/);
  });

  describe('buildDeb refuses bad input before any work', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'portcullis-deb-bad-'));
      await writeFile(join(dir, 'script'), '#!/bin/sh\nexec node agent.js "$@"\n', { mode: 0o755 });
      // A real x86-64 ELF executable (this node) for the rows that fail on something else.
      await copyFile(process.execPath, join(dir, 'elf'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const rows: { name: string; binary: string; version: string; maintainer?: string; error: RegExp }[] = [
      // A stand-in script would install and fail on every computer.
      { name: 'a shell script as the binary', binary: 'script', version: '0.1.0', error: /is not an x86-64 Linux executable \(ELF\)$/ },
      { name: 'a binary that is not there', binary: 'missing', version: '0.1.0', error: /cannot be read: ENOENT$/ },
      { name: 'a folder as the binary', binary: '.', version: '0.1.0', error: /is not a file$/ },
      { name: 'a version that is not Debian\'s', binary: 'elf', version: 'v1', error: /^not a Debian package version: "v1"/ },
      { name: 'a maintainer without an address', binary: 'elf', version: '0.1.0', maintainer: 'Ops', error: /^not a maintainer: "Ops"/ },
    ];
    for (const row of rows) {
      it(row.name, async () => {
        const out = join(dir, 'out');
        let error: unknown;
        try {
          await buildDeb({ binary: join(dir, row.binary), outDir: out, version: row.version, ...(row.maintainer ? { maintainer: row.maintainer } : {}) });
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(row.error);
      });
    }

  });
});
