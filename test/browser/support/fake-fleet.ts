/**
 * A real agent for the browser tests: `portcullis-agent enroll` against the harness's server, then
 * `portcullis-agent run` on a fake sysfs tree whose "kernel" runs in this process. Devices plugged
 * into the tree are decided by the agent and reported to the server, so the console shows events
 * that came the whole honest way (no rows written into the store by the test).
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSysfs } from '@portcullis/agent/dist/test/support/fake-sysfs.js';
import { AgentProcess, agentCli, readStatusFile } from '../../e2e/support/agent-process.js';
import { until } from '../../e2e/support/server-api.js';
import type { ConsoleHarness } from './console-harness.js';

/** Line numbers matter: the events point at them (the storage block is line 4). */
export const RULES = [
  '# hubs, keyboards and mice; never storage',
  'allow with-interface equals { 09:00:* }',
  'allow with-interface one-of { 03:01:01 03:01:02 }',
  'block with-interface one-of { 08:*:* }',
].join('\n');
export const STORAGE_RULE_LINE = 4;
export const STORAGE_RULE = 'block with-interface one-of { 08:*:* }';

export const KEYBOARD = { vendor: '046d', product: 'c31c', productName: 'USB Keyboard', manufacturer: 'Logitech', interfaces: ['03:01:01'] };
export const FLASH = { vendor: '0781', product: '5567', productName: 'Cruzer Blade', manufacturer: 'SanDisk', serial: '4C530001230925117334', interfaces: ['08:06:50'] };

export class FakeFleet {
  agentId = '';
  agent: AgentProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly stateDir: string,
    readonly fake: FakeSysfs,
  ) {}

  static async create(): Promise<FakeFleet> {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-browser-agent-'));
    const fake = await FakeSysfs.create({ controllers: 2 });
    fake.startKernel(5);
    return new FakeFleet(dir, join(dir, 'state'), fake);
  }

  /** Enrolls with a token as the real command line does (the token in the environment). */
  async enroll(h: ConsoleHarness, token: string): Promise<void> {
    const fingerprint = h.server?.caFingerprint256 ?? '';
    const enrolled = await agentCli(['enroll', '--server', h.url, '--fingerprint', fingerprint, '--state', this.stateDir], { PORTCULLIS_ENROLL_TOKEN: token });
    expect(enrolled.code, enrolled.stderr).to.equal(0);
    this.agentId = JSON.parse(await readFile(join(this.stateDir, 'identity.json'), 'utf8')).agentId;
  }

  /**
   * Runs the install command the console shows (`sudo PORTCULLIS_ENROLL_TOKEN=… portcullis-agent enroll
   * --server … --fingerprint …`) as it is, with only a state folder of its own added.
   */
  async enrollWithCommand(command: string): Promise<void> {
    const words = shellWords(command);
    // The test runs as root already; the command's `sudo` is what an admin on a PC types.
    expect(words.shift(), command).to.equal('sudo');
    const env: Record<string, string> = {};
    while (words[0] !== undefined && /^[A-Z_]+=/.test(words[0])) {
      const [name = '', ...value] = (words.shift() as string).split('=');
      env[name] = value.join('=');
    }
    expect(words.slice(0, 2), command).to.deep.equal(['portcullis-agent', 'enroll']);
    const enrolled = await agentCli([...words.slice(1), '--state', this.stateDir], env);
    expect(enrolled.code, enrolled.stderr).to.equal(0);
    this.agentId = JSON.parse(await readFile(join(this.stateDir, 'identity.json'), 'utf8')).agentId;
  }

  /** Enrolls into `group` with a token made through the API. */
  async enrollWithApi(h: ConsoleHarness, group = 'default'): Promise<void> {
    const token = await h.api('POST', '/api/v1/enrollment-tokens', { group });
    expect(token.status, JSON.stringify(token.json)).to.equal(201);
    await this.enroll(h, token.json.token);
  }

  /**
   * Starts `portcullis-agent run` and waits until it is connected to the server. The host's
   * firewall is left alone (`--no-mail-egress`); with `mailRoot` the inventory runs and reads the
   * users' mail client profiles from that fake tree, else there is no inventory.
   */
  async run(opts: { readonly mailRoot?: string } = {}): Promise<void> {
    const inventory = opts.mailRoot === undefined ? ['--no-inventory'] : ['--mail-root', opts.mailRoot];
    this.agent = new AgentProcess(['--state', this.stateDir, '--sysfs-root', this.fake.root, '--rescan-ms', '500', '--poll-ms', '50', '--log-stderr', '--log-level', 'warn', '--no-mail-egress', ...inventory]);
    await until('the agent to connect', async () => (await readStatusFile(this.stateDir))?.connected === true, 30_000);
  }

  async policyVersion(): Promise<number | undefined> {
    return (await readStatusFile(this.stateDir))?.policy.version;
  }

  plugFlash(port: string, serial = FLASH.serial): Promise<string> {
    return this.fake.plug({ port, ...FLASH, serial });
  }

  async authorized(port: string): Promise<string> {
    return this.fake.readAttr(port, 'authorized');
  }

  async stop(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
    await this.fake.cleanup();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Saves a policy for `group` through the API (a save needs a comment). */
export async function savePolicy(h: ConsoleHarness, group: string, rules: string, comment: string): Promise<number> {
  const saved = await h.api('PUT', `/api/v1/groups/${group}/policy`, { rules, implicitTarget: 'block', comment });
  expect(saved.status, JSON.stringify(saved.json)).to.be.oneOf([200, 201]);
  return saved.json.document.version;
}

/** Splits a POSIX shell line into words: plain words and single-quoted parts, as the console quotes them. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unterminated quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
