import { build, type Metafile, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './layout.js';

/**
 * Optional modules the agent's dependencies try to load inside try/catch and do without:
 * ws's native speed-ups (bufferutil, utf-8-validate), systeminformation's macOS sensors and
 * chokidar's macOS watcher (fsevents; chokidar 4 no longer asks for it, kept so that a dependency
 * bump cannot bring the warning back). esbuild leaves such requires in the bundle; inside a SEA
 * each one makes Node print "Currently the require() provided to the main script embedded into
 * single-executable applications only supports loading built-in modules" on stderr.
 */
export const ABSENT_MODULES: readonly string[] = ['bufferutil', 'utf-8-validate', 'fsevents', 'osx-temperature-sensor', 'macos-temperature-sensor'];

const ABSENT_NAMESPACE = 'portcullis-absent';

/**
 * Replaces each absent module by one that throws what Node throws for a missing module, the
 * error those libraries already catch. esbuild evaluates a CommonJS module once: a second
 * require of the same stub returns an empty object instead of throwing; the libraries above
 * require each module once (ws) or only on macOS (systeminformation), never relying on that.
 */
export function absentModulesPlugin(names: readonly string[]): Plugin {
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return {
    name: 'portcullis-absent-modules',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${escaped.join('|')})$`) }, (args) => ({ path: args.path, namespace: ABSENT_NAMESPACE }));
      b.onLoad({ filter: /.*/, namespace: ABSENT_NAMESPACE }, (args) => ({
        loader: 'js',
        contents: [
          `const err = new Error(${JSON.stringify(`Cannot find module '${args.path}' (not part of the single-file agent)`)});`,
          `err.code = 'MODULE_NOT_FOUND';`,
          'throw err;',
        ].join('\n'),
      }));
    },
  };
}

/**
 * `import.meta` does not exist in CommonJS; esbuild would turn `import.meta.url` into undefined.
 * It becomes the file URL of the running script instead: the bundle under `node`, the executable
 * itself inside a SEA (whose main script's __filename is process.execPath), so that files beside
 * the executable (a `native/` folder) can be found with `new URL('native/', import.meta.url)`.
 */
const IMPORT_META_URL_SHIM = 'var __portcullis_import_meta_url = require("node:url").pathToFileURL(__filename).href;';

export interface BundleResult {
  file: string;
  sha256: string;
  bytes: number;
  /** Every input file esbuild read, relative to the repository root. */
  inputs: string[];
}

/** Requires esbuild left in the bundle that are not Node built-ins: inside a SEA each one fails. */
export function unbundledRequires(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (imported.external && !isBuiltin(imported.path)) found.add(imported.path);
    }
  }
  return [...found].sort();
}

/**
 * Bundles an entry and everything it imports into one CommonJS file for a SEA. Fails on any
 * esbuild warning and on any require of a module that is neither bundled, nor built in, nor in
 * `absent`: such a require would only fail (with a warning) inside the executable.
 */
export async function bundleForSea(entry: string, outFile: string, absent: readonly string[] = ABSENT_MODULES): Promise<BundleResult> {
  const nodeMajor = process.versions.node.split('.')[0] ?? '20';
  const result = await build({
    entryPoints: [entry],
    outfile: outFile,
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${nodeMajor}`,
    metafile: true,
    logLevel: 'silent',
    banner: { js: IMPORT_META_URL_SHIM },
    define: { 'import.meta.url': '__portcullis_import_meta_url' },
    plugins: [absentModulesPlugin(absent)],
  });
  if (result.warnings.length > 0) {
    const lines = result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
    throw new Error(`esbuild warnings while bundling ${entry}:\n  ${lines.join('\n  ')}`);
  }
  const unbundled = unbundledRequires(result.metafile);
  if (unbundled.length > 0) {
    throw new Error(
      `the bundle of ${entry} still requires ${unbundled.join(', ')}: bundle them, or add them to ABSENT_MODULES if the code does without them`,
    );
  }
  const bytes = await readFile(outFile);
  return {
    file: outFile,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    inputs: Object.keys(result.metafile.inputs).filter((p) => !p.startsWith(`${ABSENT_NAMESPACE}:`)).sort(),
  };
}

/** The SEA entry (compiled beside this file), which imports the agent's CLI. */
export const SEA_ENTRY = fileURLToPath(new URL('sea-entry.js', import.meta.url));

/** The whole agent as one CommonJS file. */
export function bundleAgent(outFile: string): Promise<BundleResult> {
  return bundleForSea(SEA_ENTRY, outFile);
}
