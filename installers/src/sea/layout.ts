import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** installers/, found from this file's place once compiled (installers/dist/src/sea). */
export const INSTALLERS_DIR = fileURLToPath(new URL('../../../', import.meta.url));
/** The repository root: esbuild runs from here so that bundle paths do not depend on the cwd. */
export const REPO_ROOT = join(INSTALLERS_DIR, '..');
/** Built packages (git-ignored). */
export const OUT_DIR = join(INSTALLERS_DIR, 'out');
/** Downloads (Node binaries from npm) and the wine prefix (git-ignored). */
export const CACHE_DIR = join(INSTALLERS_DIR, '.cache');
/** The compiled sea folder: its files are part of every binary's build stamp. */
export const SEA_DIST_DIR = fileURLToPath(new URL('.', import.meta.url));
