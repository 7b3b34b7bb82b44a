/**
 * The single executable's main script: esbuild bundles this file and the whole agent into one
 * CommonJS file (a SEA runs CommonJS only), so it has no top-level await: the exit code is set
 * when the command resolves, as agent/bin/portcullis-agent.js does for `node`.
 */
import { run } from '@portcullis/agent/dist/src/cli.js';

void run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}).then((code) => {
  process.exitCode = code;
});
