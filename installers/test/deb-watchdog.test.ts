/**
 * The watchdog shipped as /usr/libexec/portcullis-agent/watchdog, run for real with a stand-in
 * `systemctl` first on its PATH: it restarts the agent only when the process systemd runs has
 * written status.json before and then stopped for more than two minutes.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_ASSETS_DIR } from '../src/deb/build-deb.js';
import { run } from './deb-support.js';

/** Answers is-active and show MainPID from the environment; records every call. */
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >>"$FAKE_LOG"
case "$*" in
"--quiet is-active portcullis-agent.service") [ "$FAKE_ACTIVE" = yes ] ;;
"show --property=MainPID --value portcullis-agent.service") echo "$FAKE_PID" ;;
"restart portcullis-agent.service") exit 0 ;;
*) echo "unexpected systemctl $*" >&2; exit 64 ;;
esac
`;

interface Row {
  name: string;
  active: boolean;
  mainPid: number;
  /** The pid written in status.json; null: no status file. */
  writtenPid: number | null;
  /** Seconds since status.json was last written (negative: in the future). */
  ageS: number;
  restart: boolean;
}

const ROWS: Row[] = [
  // The agent writes every 5 s: all is well.
  { name: 'a fresh status of the running process', active: true, mainPid: 4242, writtenPid: 4242, ageS: 10, restart: false },
  // Same process, silent for 3 minutes: its event loop is stuck.
  { name: 'a status three minutes old from the running process', active: true, mainPid: 4242, writtenPid: 4242, ageS: 180, restart: true },
  // Just under the limit.
  { name: 'a status 100 s old', active: true, mainPid: 4242, writtenPid: 4242, ageS: 100, restart: false },
  // A new process has not written yet; the old file is its predecessor's: a slow start is no hang.
  { name: 'an old status of an earlier process', active: true, mainPid: 5151, writtenPid: 4242, ageS: 600, restart: false },
  // Stopped on purpose (or not yet started): not the watchdog's business.
  { name: 'an inactive service', active: false, mainPid: 0, writtenPid: 4242, ageS: 600, restart: false },
  // Never ran with this state folder.
  { name: 'no status file', active: true, mainPid: 4242, writtenPid: null, ageS: 0, restart: false },
  // The clock was set back: a status "from the future" is not a hang.
  { name: 'a status from the future', active: true, mainPid: 4242, writtenPid: 4242, ageS: -600, restart: false },
];

describe('deb: the agent watchdog', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-deb-watchdog-'));
    await writeFile(join(dir, 'systemctl'), FAKE_SYSTEMCTL, { mode: 0o755 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const row of ROWS) {
    it(`${row.restart ? 'restarts' : 'leaves alone'} the agent: ${row.name}`, async () => {
      const state = await mkdtemp(join(dir, 'state-'));
      const log = join(state, 'systemctl.log');
      await writeFile(log, '');
      if (row.writtenPid !== null) {
        const status = join(state, 'status.json');
        await writeFile(status, `{"pid":${row.writtenPid},"startedAt":"2026-11-25T08:00:00.000Z","updatedAt":"2026-11-25T08:00:05.000Z","agentId":null}\n`);
        const when = Date.now() / 1000 - row.ageS;
        await utimes(status, when, when);
      }
      const result = await run('sh', [join(DEBIAN_ASSETS_DIR, 'watchdog'), state], {
        PATH: `${dir}:/usr/bin:/bin`,
        FAKE_LOG: log,
        FAKE_ACTIVE: row.active ? 'yes' : 'no',
        FAKE_PID: String(row.mainPid),
      });
      expect(result.code, result.stderr).to.equal(0);
      const calls = (await readFile(log, 'utf8')).trim().split('\n');
      expect(calls.includes('restart portcullis-agent.service'), calls.join('; ')).to.equal(row.restart);
      if (row.restart) expect(result.stderr).to.match(/^portcullis-agent \(pid 4242\) has not updated .*status\.json for 1[89]\ds: restarting it\n$/);
      else expect(result.stderr).to.equal('');
    });
  }
});
