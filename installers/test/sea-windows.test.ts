/**
 * The Windows single-file agent, cross-built here and run under wine (wine64, Windows 10 prefix
 * cached in installers/.cache/wineprefix): same answers as the agent under node, an honest PE
 * (no stale signature, right checksum), and one SEA blob that serves both platforms.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { bundleAgent } from '../src/sea/agent-bundle.js';
import { CACHE_DIR, REPO_ROOT } from '../src/sea/layout.js';
import { extractNodeBinary, nodePackage } from '../src/sea/node-dist.js';
import { certificateTable, peChecksum } from '../src/sea/pe-signature.js';
import { makeSeaBlob, SEA_BLOB, SEA_CONFIG, SEA_FUSE, SEA_MAIN, seaConfig } from '../src/sea/sea-blob.js';
import { buildWindowsBinary, type SeaBinary } from '../src/sea/sea-binary.js';
import { Wine } from '../src/sea/wine.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/sea/', import.meta.url));
const NODE_LAUNCHER = join(REPO_ROOT, 'agent', 'bin', 'portcullis-agent.js');
const NOW = '2026-11-25T20:00:00+01:00';

const checksumField = (image: Buffer) => image.readUInt32LE(image.readUInt32LE(0x3c) + 24 + 64);

describe('sea: the Windows single-file agent, under wine', function () {
  this.timeout(300_000);
  let exe: SeaBinary;
  let wine: Wine;
  let dir: string;
  let nodeExe: string;

  before(async () => {
    exe = await buildWindowsBinary({ log: (line) => console.log(`      ${line}`) });
    dir = await mkdtemp(join(tmpdir(), 'portcullis-sea-win-'));
    nodeExe = await extractNodeBinary(nodePackage('win-x64', process.versions.node), CACHE_DIR, join(dir, 'node'));
    const started = Date.now();
    wine = await Wine.open();
    console.log(`      ${wine.version}, prefix ${wine.prefix} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  after(async () => {
    // No wineserver or Windows process left behind for the next test or the CI runner.
    await wine?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is a PE named after the agent version, with the SEA fuse flipped', async () => {
    expect(exe.path).to.match(new RegExp(`/installers/out/portcullis-agent-${VERSION.replaceAll('.', '\\.')}-win-x64\\.exe$`));
    const image = await readFile(exe.path);
    expect(image.toString('latin1', 0, 2)).to.equal('MZ');
    expect(image.includes(`${SEA_FUSE}:1`), 'the fuse says a blob is injected').to.equal(true);
  });

  it('carries no stale Authenticode signature and a correct PE checksum', async () => {
    const image = await readFile(exe.path);
    expect(certificateTable(image)).to.deep.equal([0, 0]);
    expect(checksumField(image)).to.equal(peChecksum(image));
  });

  it('computes the PE checksum as Microsoft\'s tools do (the published node.exe is the reference)', async () => {
    const image = await readFile(nodeExe);
    expect(certificateTable(image)[1], 'node.exe as published is signed').to.be.greaterThan(0);
    expect(peChecksum(image)).to.equal(checksumField(image));
  });

  it('prints its version under wine, stdout redirected to a file', async () => {
    const r = await wine.run(exe.path, ['--version']);
    expect(r).to.deep.equal({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('eval under wine gives the same lines as the agent under node', async () => {
    const rules = join(FIXTURES, 'policy.rules');
    const devices = join(FIXTURES, 'devices.jsonl');
    const viaNode = spawnSync(process.execPath, [NODE_LAUNCHER, 'eval', '--rules', rules, '--devices', devices, '--now', NOW], { encoding: 'utf8' });
    expect(viaNode.status, viaNode.stderr).to.equal(0);
    expect(viaNode.stdout.split('\n').length).to.equal(7);
    const r = await wine.run(exe.path, ['eval', '--rules', wine.windowsPath(rules), '--devices', wine.windowsPath(devices), '--now', NOW]);
    expect(r).to.deep.equal({ code: 0, stdout: viaNode.stdout, stderr: '' });
  });

  it('rules --check under wine reads a Windows path', async () => {
    const rules = wine.windowsPath(join(FIXTURES, 'policy.rules'));
    const r = await wine.run(exe.path, ['rules', '--check', rules]);
    expect(r).to.deep.equal({ code: 0, stdout: `${rules}: 5 rules, all valid\n`, stderr: '' });
  });

  it('the blob is the same bytes whichever platform makes it: node.exe under wine writes what this node writes', async () => {
    const linux = join(dir, 'blob-linux');
    const windows = join(dir, 'blob-windows');
    await mkdir(linux);
    await mkdir(windows);
    await bundleAgent(join(linux, SEA_MAIN));
    await copyFile(join(linux, SEA_MAIN), join(windows, SEA_MAIN));
    const fromLinux = await readFile(await makeSeaBlob(linux));
    await writeFile(join(windows, SEA_CONFIG), seaConfig());
    const r = await wine.run(nodeExe, ['--experimental-sea-config', SEA_CONFIG], { cwd: windows });
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const fromWindows = await readFile(join(windows, SEA_BLOB));
    expect(fromWindows.length).to.equal(fromLinux.length);
    expect(fromWindows.equals(fromLinux)).to.equal(true);
  });

  it('reports its size', () => {
    console.log(`      win-x64: ${(exe.bytes / 1e6).toFixed(1)} MB`);
    expect(exe.bytes).to.be.within(50e6, 150e6);
  });
});
