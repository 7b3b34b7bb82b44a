import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// shared/ is the pure core used by agent, server and the browser console: no Node.js modules,
// no I/O, no hidden clock. This test keeps it that way (STYLE.md §1, §10).
const srcDir = fileURLToPath(new URL('../../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const IMPORT_RE = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g;

describe('architecture: shared/ stays pure', () => {
  const files = sourceFiles(srcDir);

  it('has source files to check', () => {
    expect(files.length).to.be.greaterThan(5);
  });

  for (const file of files) {
    const name = relative(srcDir, file);
    const text = readFileSync(file, 'utf8');

    it(`${name} imports only relative modules`, () => {
      const specifiers = [...text.matchAll(IMPORT_RE)].map((m) => m[1] as string);
      const outside = specifiers.filter((s) => !s.startsWith('./') && !s.startsWith('../'));
      expect(outside, `${name} imports ${outside.join(', ')}`).to.deep.equal([]);
    });

    it(`${name} reads no hidden clock and no process state`, () => {
      expect(text).not.to.match(/\bDate\.now\(|\bnew Date\(\)|\bprocess\.|\bBuffer\b/);
    });
  }
});
