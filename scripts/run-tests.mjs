// Runs every workspace's tests through lerna (dependency order), then prints the one summary
// line CI and people read: `N passed, N failed`. A package that has a test script but left no
// results (it crashed before mocha finished) counts as one failure, so nothing passes silently.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, '.test-results');
rmSync(resultsDir, { recursive: true, force: true });

const lerna = spawnSync('npx', ['lerna', 'run', 'test', '--stream', '--no-bail', '--concurrency', '1'], {
  cwd: root,
  stdio: 'inherit',
});

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let passed = 0;
let failed = 0;
let pending = 0;
for (const ws of rootPkg.workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  const file = join(resultsDir, `${pkg.name.replace(/[^a-z0-9]+/gi, '_')}.json`);
  if (!existsSync(file)) {
    console.error(`${pkg.name}: no test results (the test run crashed before mocha finished)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.passes;
  failed += r.failures;
  pending += r.pending;
}
if (!existsSync(resultsDir) || readdirSync(resultsDir).length === 0) failed += 1;
if (pending > 0) {
  // A skipped test is a defect in this project: report it as a failure, not as noise.
  console.error(`${pending} pending (skipped) tests: skipping is not allowed`);
  failed += pending;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(lerna.status === 0 && failed === 0 ? 0 : 1);
