import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/cli.js';

const BIN = fileURLToPath(new URL('../../bin/portcullis-agent.js', import.meta.url));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const POLICY = `# ministry starter policy
allow id 1d6b:*                                    # root hubs
allow with-interface equals { 03:*:* }             # plain keyboards and mice
allow id 0781:5567 serial "4C530001230523112463"   # one registered flash drive
block with-interface one-of { 08:*:* 06:*:* }      # other storage and phones
reject id 05ac:* if !localtime(08:00-18:00)
`;

const DEVICES = [
  { id: '1d6b:0002', name: 'xHCI Host Controller', interfaces: ['09:00:00'], viaPort: 'usb1' },
  { id: '046d:c31c', name: 'USB Keyboard', interfaces: ['03:01:01'] },
  { id: '0781:5567', serial: '4C530001230523112463', interfaces: ['08:06:50'] },
  { id: '0781:5567', serial: 'SOMEONE-ELSES', interfaces: ['08:06:50'] },
  { id: '05ac:12a8', name: 'iPhone', interfaces: ['ff:fe:02'] },
  { id: '04f2:b604', name: 'Webcam', interfaces: ['0e:01:00', '0e:02:00'] },
];

describe('portcullis-agent CLI', () => {
  let dir: string;
  const file = (name: string, text: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('eval', () => {
    it('prints one decision per device, in order, with the rule line', async () => {
      const rules = file('p.rules', POLICY);
      const devices = file('d.jsonl', DEVICES.map((d) => JSON.stringify(d)).join('\n') + '\n\n');
      const r = await cli('eval', '--rules', rules, '--devices', devices, '--now', '2026-11-25T20:00:00+01:00');
      expect(r.err).to.equal('');
      expect(r.code).to.equal(0);
      const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { target: string; line: number | null; rule: string | null });
      expect(lines.map((l) => [l.target, l.line])).to.deep.equal([
        ['allow', 2],
        ['allow', 3],
        ['allow', 4],
        ['block', 5],
        ['reject', 6],
        ['block', null],
      ]);
      expect(lines[3]?.rule).to.equal('block with-interface one-of { 08:*:* 06:*:* }');
      expect(lines[5]?.rule).to.equal(null);
      expect(lines.map((l) => (l as { device?: string }).device)).to.deep.equal([
        'USB hub',
        'keyboard',
        'USB flash drive',
        'USB flash drive',
        'iPhone / iPad',
        'webcam',
      ]);
    });

    it('takes local time from the offset in --now', async () => {
      const rules = file('p.rules', POLICY);
      const devices = file('d.jsonl', JSON.stringify(DEVICES[4]));
      // 09:30 UTC is 10:30 in +01:00: office hours, so the reject rule does not apply.
      const r = await cli('eval', '--rules', rules, '--devices', devices, '--now', '2026-11-25T09:30:00+01:00');
      expect(JSON.parse(r.out)).to.deep.equal({ target: 'block', line: null, implicit: true, rule: null, device: 'iPhone / iPad', conditionsNotMet: [6] });
    });

    it('applies --implicit', async () => {
      const rules = file('p.rules', 'block id 0781:*\n');
      const devices = file('d.jsonl', JSON.stringify({ id: '046d:c31c' }));
      const r = await cli('eval', '--rules', rules, '--devices', devices, '--implicit', 'allow');
      expect(JSON.parse(r.out)).to.deep.include({ target: 'allow', line: null });
    });

    it('refuses a bad device line with its line number and prints nothing', async () => {
      const rules = file('p.rules', POLICY);
      const devices = file('d.jsonl', `${JSON.stringify(DEVICES[0])}\n{"id":"0781-5567"}\n`);
      const r = await cli('eval', '--rules', rules, '--devices', devices);
      expect(r.code).to.equal(1);
      expect(r.out).to.equal('');
      expect(r.err).to.match(/d\.jsonl:2: "id" must be "vvvv:pppp"/);
    });

    it('refuses a device line that is not JSON', async () => {
      const r = await cli('eval', '--rules', file('p.rules', 'allow'), '--devices', file('d.jsonl', '{"id": "0781:5567"\n'));
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/^.*d\.jsonl:1: not valid JSON/);
    });

    it('refuses a device whose interfaces are not cc:ss:pp', async () => {
      const r = await cli('eval', '--rules', file('p.rules', 'allow'), '--devices', file('d.jsonl', '{"id":"0781:5567","interfaces":["08:06"]}'));
      expect(r.code).to.equal(1);
      expect(r.err).to.contain('"interfaces[0]" must be "cc:ss:pp"');
    });

    it('refuses a bad rule with FILE:LINE:COLUMN', async () => {
      const rules = file('p.rules', 'allow\n\nblock with-interface 08:*:05\n');
      const r = await cli('eval', '--rules', rules, '--devices', file('d.jsonl', '{"id":"0781:5567"}'));
      expect(r.code).to.equal(1);
      expect(r.err).to.equal(`${rules}:3:22: invalid interface type '08:*:05': a '*' subclass needs a '*' protocol (cc:*:*)\n`);
    });

    const usage: Array<{ name: string; args: (d: string) => string[]; err: RegExp }> = [
      { name: 'unknown flag', args: () => ['eval', '--bogus'], err: /^eval: Unknown option '--bogus' \(see --help\)\n$/ },
      { name: 'missing --devices', args: (d) => ['eval', '--rules', join(d, 'x')], err: /--rules FILE and --devices FILE are required/ },
      { name: 'unreadable rules file', args: (d) => ['eval', '--rules', join(d, 'missing.rules'), '--devices', join(d, 'missing.jsonl')], err: /missing\.rules: cannot read file \(ENOENT\)/ },
      { name: 'a directory as rules file', args: (d) => ['eval', '--rules', d, '--devices', d], err: /not a regular file/ },
      { name: 'bad --now', args: (d) => ['eval', '--rules', d, '--devices', d, '--now', 'tomorrow'], err: /--now must be an ISO-8601 time/ },
      { name: 'bad --implicit', args: (d) => ['eval', '--rules', d, '--devices', d, '--implicit', 'maybe'], err: /--implicit must be one of allow, block, reject, readonly/ },
      { name: 'flag without its value', args: () => ['eval', '--rules'], err: /eval: Option '--rules <value>' argument missing/ },
    ];
    for (const row of usage) {
      it(`exits 2 with one line for ${row.name}`, async () => {
        const r = await cli(...row.args(dir));
        expect(r.code).to.equal(2);
        expect(r.err).to.match(row.err);
        expect(r.err.trimEnd().split('\n')).to.have.length(1);
        expect(r.out).to.equal('');
      });
    }
  });

  describe('rules', () => {
    it('--normalize prints rules as usbguard-rule-parser does, dropping comments', async () => {
      const r = await cli('rules', '--normalize', file('p.rules', POLICY));
      expect(r.code).to.equal(0);
      expect(r.out).to.equal(
        [
          'allow id 1d6b:*',
          'allow with-interface 03:*:*',
          'allow id 0781:5567 serial "4C530001230523112463"',
          'block with-interface one-of { 08:*:* 06:*:* }',
          'reject id 05ac:* if !localtime(08:00-18:00)',
          '',
        ].join('\n'),
      );
    });

    it('--normalize stops at the first bad rule with FILE:LINE:COLUMN and exit 1', async () => {
      const rules = file('p.rules', 'allow\nallow name "a\\tb"\nblock foo\n');
      const r = await cli('rules', '--normalize', rules);
      expect(r.code).to.equal(1);
      expect(r.out).to.equal('');
      expect(r.err).to.equal(`${rules}:2:14: unknown escape sequence '\\t' (USBGuard accepts \\", \\\\ and \\xHH)\n`);
    });

    it('--check counts the rules', async () => {
      const r = await cli('rules', '--check', file('p.rules', POLICY));
      expect(r.out).to.match(/: 5 rules, all valid\n$/);
    });

    it('refuses a file that is not UTF-8 at the bad byte', async () => {
      const rules = file('p.rules', Buffer.from([...Buffer.from('allow\nallow name "ab'), 0xff, ...Buffer.from('"\n')]));
      const r = await cli('rules', '--normalize', rules);
      expect(r.code).to.equal(1);
      expect(r.err).to.equal(`${rules}:2:15: not valid UTF-8 text\n`);
    });

    it('needs exactly one mode', async () => {
      const r = await cli('rules', file('p.rules', POLICY));
      expect(r.code).to.equal(2);
      expect(r.err).to.match(/^rules: Unexpected argument/);
      expect((await cli('rules')).err).to.contain('give exactly one of --normalize FILE or --check FILE');
    });
  });

  describe('top level', () => {
    it('--help lists the commands', async () => {
      const r = await cli('--help');
      expect(r.code).to.equal(0);
      expect(r.out).to.contain('eval').and.to.contain('rules');
    });

    for (const command of ['eval', 'rules']) {
      it(`${command} --help describes its options`, async () => {
        const r = await cli(command, '--help');
        expect(r.code).to.equal(0);
        expect(r.out).to.match(new RegExp(`^Usage: portcullis-agent ${command} `));
      });
    }

    it('an unknown command exits 2', async () => {
      const r = await cli('frobnicate');
      expect(r.code).to.equal(2);
      expect(r.err).to.equal("portcullis-agent: unknown command 'frobnicate' (see --help)\n");
    });

    it('the installed binary never shows a stack trace', () => {
      const res = spawnSync(process.execPath, [BIN, 'eval', '--rules', '/nonexistent/x', '--devices', '/nonexistent/y'], { encoding: 'utf8' });
      expect(res.status).to.equal(2);
      expect(res.stderr).to.equal('/nonexistent/x: cannot read file (ENOENT)\n');
      expect(res.stderr).not.to.match(/\bat .*\.js:\d+/);
    });
  });
});
