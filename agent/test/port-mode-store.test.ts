import { expect } from 'chai';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LinuxPortControl } from '../src/platform/linux/linux-port-control.js';
import { formatPortModes, parsePortModes } from '../src/platform/linux/port-mode-store.js';
import { StateError } from '../src/state/state-error.js';
import { FakePorts } from './support/fake-ports.js';

// Each row: a ports.json the agent must refuse, and the message that says why.
const BAD: readonly { name: string; text: string; message: RegExp }[] = [
  { name: 'torn write', text: '{"schema":1,"originalModes":{"ttyS0":"06', message: /^ports\.json: not JSON/ },
  { name: 'an array', text: '[]', message: /^ports\.json: not a JSON object$/ },
  { name: 'another schema', text: '{"schema":2,"originalModes":{}}', message: /^ports\.json: schema must be 1$/ },
  { name: 'an unknown field', text: '{"schema":1,"originalModes":{},"extra":1}', message: /^ports\.json: unknown field "extra"$/ },
  { name: 'modes not an object', text: '{"schema":1,"originalModes":["ttyS0"]}', message: /^ports\.json: originalModes must be an object$/ },
  { name: 'a path as a name', text: '{"schema":1,"originalModes":{"../passwd":"0660"}}', message: /"\.\.\/passwd" is not a port device name$/ },
  { name: 'a disk as a name', text: '{"schema":1,"originalModes":{"sda":"0660"}}', message: /"sda" is not a port device name$/ },
  { name: 'a number, not a string', text: '{"schema":1,"originalModes":{"ttyS0":432}}', message: /mode of ttyS0 must be four octal digits like "0660"$/ },
  { name: 'setuid bits', text: '{"schema":1,"originalModes":{"ttyS0":"4660"}}', message: /mode of ttyS0 must be four octal digits/ },
  { name: 'not octal', text: '{"schema":1,"originalModes":{"ttyS0":"0680"}}', message: /mode of ttyS0 must be four octal digits/ },
  { name: 'a blocked mode as original', text: '{"schema":1,"originalModes":{"ttyS0":"0000"}}', message: /mode of ttyS0 \(0000\) has no write bit, so it is no original$/ },
  { name: 'a read-only mode as original', text: '{"schema":1,"originalModes":{"sr0":"0440"}}', message: /mode of sr0 \(0440\) has no write bit/ },
];

describe('port modes file (ports.json)', () => {
  it('round-trips through format and parse, sorted by name', () => {
    const modes = new Map([
      ['ttyS10', 0o660],
      ['ttyS2', 0o620],
      ['sg1', 0o660],
    ]);
    const text = formatPortModes(modes);
    expect(JSON.parse(text)).to.deep.equal({ schema: 1, originalModes: { sg1: '0660', ttyS2: '0620', ttyS10: '0660' } });
    expect(Object.keys(JSON.parse(text).originalModes)).to.deep.equal(['sg1', 'ttyS2', 'ttyS10']);
    expect([...parsePortModes(text)]).to.have.deep.members([...modes]);
  });

  for (const row of BAD) {
    it(`refuses ${row.name} with a clear StateError`, () => {
      let caught: unknown;
      try {
        parsePortModes(row.text);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(StateError);
      expect((caught as StateError).code).to.equal('PORTCULLIS_ERR_STATE_INVALID');
      expect((caught as StateError).message).to.match(row.message);
    });
  }

  describe('a damaged file met by the control', () => {
    let fake: FakePorts;
    let warnings: string[];
    const logger = { info: () => undefined, warn: (m: string) => void warnings.push(m) };
    beforeEach(async () => {
      fake = await FakePorts.create();
      warnings = [];
    });
    afterEach(() => fake.cleanup());

    it('is moved aside intact with a warning, allow falls back to 0660, and a fresh file is written', async () => {
      const bad = '{"schema":1,"originalModes":{"ttyS0":"0000"}}';
      await mkdir(fake.stateDir, { recursive: true });
      await writeFile(join(fake.stateDir, 'ports.json'), bad);
      await fake.addSerial('ttyS0', { mode: 0o000 });
      await fake.addNode('lp0', 0o640);
      const ctl = new LinuxPortControl({ sysfsRoot: fake.sysfsRoot, devRoot: fake.devRoot, stateDir: fake.stateDir, logger, allowRegularFiles: true, now: () => 1700000000000 });

      await ctl.apply({ portClass: 'serial', id: 'ttyS0', path: join(fake.devRoot, 'ttyS0'), from: 'blocked', to: 'allowed' });
      expect(await fake.mode('ttyS0')).to.equal(0o660);
      const aside = join(fake.stateDir, 'ports.json.bad-1700000000000');
      expect(await readFile(aside, 'utf8')).to.equal(bad);
      expect(warnings).to.deep.equal([
        `ports.json: mode of ttyS0 (0000) has no write bit, so it is no original; moved to ${aside}, original port modes unknown, allowed ports get the default mode`,
        `${join(fake.devRoot, 'ttyS0')}: original mode unknown; using 0660`,
      ]);

      await ctl.apply({ portClass: 'parallel', id: 'lp0', path: join(fake.devRoot, 'lp0'), from: 'allowed', to: 'blocked' });
      expect(JSON.parse(await readFile(join(fake.stateDir, 'ports.json'), 'utf8'))).to.deep.equal({ schema: 1, originalModes: { lp0: '0640' } });
      expect((await readdir(fake.stateDir)).filter((f) => !f.startsWith('.')).sort()).to.deep.equal(['ports.json', 'ports.json.bad-1700000000000']);
    });

    it('a file that cannot be read is kept, never replaced, and blocking still works', async () => {
      // A folder where the file should be: reading fails with EISDIR.
      await mkdir(join(fake.stateDir, 'ports.json'), { recursive: true });
      await fake.addNode('lp0', 0o640);
      const ctl = new LinuxPortControl({ sysfsRoot: fake.sysfsRoot, devRoot: fake.devRoot, stateDir: fake.stateDir, logger, allowRegularFiles: true });
      await ctl.apply({ portClass: 'parallel', id: 'lp0', path: join(fake.devRoot, 'lp0'), from: 'allowed', to: 'blocked' });
      expect(await fake.mode('lp0')).to.equal(0);
      expect(warnings[0]).to.match(/^cannot read ports\.json; original port modes unknown, allowed ports get the default mode: EISDIR/);
      expect(warnings[1]).to.equal('ports.json is not written: the existing file could not be read or moved aside');
      expect(await readdir(join(fake.stateDir, 'ports.json'))).to.deep.equal([]);
    });
  });
});
