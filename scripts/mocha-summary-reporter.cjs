'use strict';
// Mocha's spec reporter, plus a stats file per package so scripts/run-tests.mjs can
// print one `N passed, N failed` line for the whole repository after lerna ran every package.
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));
      const dir = path.join(__dirname, '..', '.test-results');
      fs.mkdirSync(dir, { recursive: true });
      const stats = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      const file = path.join(dir, `${pkg.name.replace(/[^a-z0-9]+/gi, '_')}.json`);
      fs.writeFileSync(
        file,
        JSON.stringify({ package: pkg.name, passes: stats.passes, failures: stats.failures, pending: stats.pending }),
      );
    });
  }
}

module.exports = SummaryReporter;
