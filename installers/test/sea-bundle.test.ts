import { expect } from 'chai';
import type { Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ABSENT_MODULES, bundleAgent, bundleForSea, unbundledRequires, type BundleResult } from '../src/sea/agent-bundle.js';
import { REPO_ROOT } from '../src/sea/layout.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/sea/', import.meta.url));

function runNode(file: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sea: bundling the agent into one CommonJS file', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-sea-bundle-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces every optional module by one that fails as a missing module, which the libraries catch', async () => {
    const out = join(dir, 'absent.cjs');
    await bundleForSea(join(FIXTURES, 'absent-modules.cjs'), out);
    const r = runNode(out);
    expect(r.stderr).to.equal('');
    expect(r.stdout.trimEnd().split('\n')).to.deep.equal(ABSENT_MODULES.map((m) => `${m} MODULE_NOT_FOUND`));
  });

  it('turns import.meta.url into the file URL of the running script', async () => {
    const out = join(dir, 'import-meta.cjs');
    await bundleForSea(join(FIXTURES, 'import-meta.mjs'), out);
    const r = runNode(out);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.equal(`${pathToFileURL(out).href}\n`);
  });

  it('refuses a bundle that would still require a module that is neither built in nor listed as absent', async () => {
    let failure: unknown;
    try {
      await bundleForSea(join(FIXTURES, 'unresolved-require.cjs'), join(dir, 'unresolved.cjs'));
    } catch (err) {
      failure = err;
    }
    expect(failure).to.be.instanceOf(Error);
    expect((failure as Error).message).to.contain('still requires portcullis-no-such-module').and.contain('ABSENT_MODULES');
  });

  describe('unbundledRequires', () => {
    const metafile = (imports: { path: string; external?: boolean }[]): Metafile => ({
      inputs: { 'a.js': { bytes: 1, imports: imports.map((i) => ({ path: i.path, kind: 'require-call' as const, external: i.external })) } },
      outputs: {},
    });
    const rows: { name: string; imports: { path: string; external?: boolean }[]; expected: string[] }[] = [
      // Built-ins stay external in any Node bundle, with or without the node: prefix.
      { name: 'built-ins', imports: [{ path: 'fs', external: true }, { path: 'node:fs/promises', external: true }], expected: [] },
      // A package esbuild could not resolve (inside try/catch) is reported.
      { name: 'an unresolved package', imports: [{ path: 'bufferutil', external: true }, { path: 'fs', external: true }], expected: ['bufferutil'] },
      // A bundled import is not external: nothing to report.
      { name: 'a bundled module', imports: [{ path: '../node_modules/ws/index.js' }], expected: [] },
    ];
    for (const row of rows) {
      it(`${row.name}: ${JSON.stringify(row.expected)}`, () => {
        expect(unbundledRequires(metafile(row.imports))).to.deep.equal(row.expected);
      });
    }
  });

  describe('the agent bundle', () => {
    let agent: BundleResult;
    let text: string;
    before(async () => {
      agent = await bundleAgent(join(dir, 'agent.cjs'));
      text = await readFile(agent.file, 'utf8');
    });

    it('holds the agent, shared and the dependencies that load optional modules', () => {
      expect(agent.inputs).to.include.members(['agent/dist/src/cli.js', 'shared/dist/src/index.js']);
      expect(agent.inputs.some((p) => p.startsWith('node_modules/ws/'))).to.equal(true);
      expect(agent.inputs.some((p) => p.startsWith('node_modules/systeminformation/'))).to.equal(true);
      // The stubs are used, not dead entries: ws's and systeminformation's requires were replaced.
      for (const name of ['bufferutil', 'utf-8-validate', 'osx-temperature-sensor']) {
        expect(text, name).to.contain(`Cannot find module '${name}' (not part of the single-file agent)`);
      }
    });

    it('is pure JavaScript: no native addon (.node) and no node-usb, in the bundle or in the agent dependencies', async () => {
      expect(agent.inputs.filter((p) => p.endsWith('.node'))).to.deep.equal([]);
      expect(agent.inputs.filter((p) => /node_modules\/(usb|node-usb)\//.test(p))).to.deep.equal([]);
      const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'agent', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      expect(Object.keys(pkg.dependencies ?? {})).to.not.include('usb');
    });

    it('is deterministic: the same inputs give the same bytes (the build stamp relies on it)', async () => {
      const again = await bundleAgent(join(dir, 'agent-again.cjs'));
      expect(again.sha256).to.equal(agent.sha256);
    });

    it('runs under plain node with the same CLI', () => {
      const r = spawnSync(process.execPath, [agent.file, '--version'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).to.equal('');
      expect(r.status).to.equal(0);
      expect(r.stdout).to.match(/^\d+\.\d+\.\d+\n$/);
    });
  });
});
