#!/usr/bin/env node
// Try the agent without a USB bus: a fake sysfs tree (two xHCI controllers, four root hubs),
// the real `portcullis-agent run` on it, then a keyboard and a flash drive plugged in.
//
//   npm run build && node scripts/demo-agent.mjs
//   node scripts/demo-agent.mjs --server https://127.0.0.1:8443 --fingerprint <CA SHA-256> --token <enrollment token>
//
// Without --server the agent enforces its built-in policy (hubs, keyboards and mice only) and
// reports nothing; with it, the agent enrolls first and the events appear in the server's
// violation log (GET /api/v1/events and the console). With --wait the agent keeps running
// (push policies from the console and watch it apply them) until Ctrl-C. The tree and the state
// folder are removed at the end unless --keep is given.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'agent', 'bin', 'portcullis-agent.js');
const { FakeSysfs } = await import(join(root, 'agent', 'dist', 'test', 'support', 'fake-sysfs.js'));

const { values } = parseArgs({
  options: { server: { type: 'string' }, token: { type: 'string' }, fingerprint: { type: 'string' }, keep: { type: 'boolean' }, wait: { type: 'boolean' } },
});

const work = await mkdtemp(join(tmpdir(), 'portcullis-demo-'));
const state = join(work, 'state');
const fake = await FakeSysfs.create({ controllers: 2 });
fake.startKernel(5);
const say = (text) => process.stdout.write(`\n== ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cli = (args, env = {}) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });

let agent;
try {
  if (values.server) {
    say(`enrolling with ${values.server}`);
    // The token travels in the environment, not argv, where `ps` would show it.
    const enrolled = cli(['enroll', '--server', values.server, '--state', state, ...(values.fingerprint ? ['--fingerprint', values.fingerprint] : ['--yes'])], {
      PORTCULLIS_ENROLL_TOKEN: values.token ?? '',
    });
    process.stdout.write(enrolled.stdout + enrolled.stderr);
    if (enrolled.status !== 0) throw new Error('enrollment failed');
  }
  say(`fake sysfs tree: ${fake.root}`);
  say('starting portcullis-agent run (log below, on stderr)');
  agent = spawn(process.execPath, [bin, 'run', '--state', state, '--sysfs-root', fake.root, '--rescan-ms', '5000', '--poll-ms', '100', '--log-stderr', '--no-inventory', '--no-mail-egress'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  await sleep(1500);
  for (const hub of fake.rootHubs()) process.stdout.write(`   ${hub}/authorized_default = ${await fake.readAttr(hub, 'authorized_default')}\n`);

  say('plugging a keyboard into port 1-1 and a SanDisk flash drive into port 3-2');
  await fake.plug({ port: '1-1', vendor: '046d', product: 'c31c', productName: 'USB Keyboard', manufacturer: 'Logitech', interfaces: ['03:01:01'] });
  await fake.plug({ port: '3-2', vendor: '0781', product: '5567', productName: 'Cruzer Blade', manufacturer: 'SanDisk', serial: '4C530001230925117334', interfaces: ['08:06:50'] });
  await sleep(1500);
  for (const name of ['1-1', '3-2']) process.stdout.write(`   ${name}/authorized = ${await fake.readAttr(name, 'authorized')}\n`);

  say('portcullis-agent devices (each device with its decision and trace)');
  const devices = cli(['devices', '--state', state, '--sysfs-root', fake.root]);
  process.stdout.write(devices.stdout + devices.stderr);

  say('portcullis-agent status');
  const status = cli(['status', '--state', state]);
  process.stdout.write(status.stdout + status.stderr);
  say(`events queued for the server (seq ${JSON.parse(await readFile(join(state, 'status.json'), 'utf8')).spool.lastSeq} so far)`);
  if (values.wait) {
    say('the agent keeps running; press Ctrl-C to stop it');
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  if (agent) {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
  }
  await fake.cleanup();
  if (values.keep) process.stdout.write(`\nstate kept in ${state}\n`);
  else await rm(work, { recursive: true, force: true });
}
