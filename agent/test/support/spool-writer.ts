/**
 * Child process of the kill test (spool-kill.test.ts): floods a FileSpool with appends until it
 * is killed. stdout lines (process.stdout is synchronous for pipes on Linux, so a line the
 * parent reads was written before the kill):
 *
 *     ready <lastSeq> <ackedSeq> <corruptBytes> <truncatedBytes>   after open
 *     d <seq> <tag>                                                 append returned: durable
 *     a <seq>                                                       about to ack seq
 *
 * Usage: node spool-writer.js DIR SEGMENT_BYTES ACK_LIMIT — acks trail the appends but never pass
 * ACK_LIMIT, the highest seq the parent has already found on disk after a kill.
 */
import { FileSpool } from '../../src/spool/file-spool.js';
import type { NewSpoolEvent } from '../../src/spool/spool.js';

const PRODUCERS = 8;
const ACK_LAG = 500;

const [dir, segmentBytes, ackLimitArg] = process.argv.slice(2);
if (!dir || !segmentBytes || !ackLimitArg) throw new Error('usage: spool-writer DIR SEGMENT_BYTES ACK_LIMIT');
const ackLimit = Number(ackLimitArg);

const spool = await FileSpool.open(dir, {
  clock: () => new Date(),
  maxBytes: 256 * 1024 * 1024,
  segmentBytes: Number(segmentBytes),
  logger: { warn: (message, meta) => process.stderr.write(`${message} ${JSON.stringify(meta ?? {})}\n`) },
});
const s = spool.stats();
process.stdout.write(`ready ${s.lastSeq} ${s.ackedSeq} ${s.corruptBytes} ${s.truncatedBytes}\n`);

let counter = 0;
let highest = 0;

function event(): NewSpoolEvent {
  const tag = `${process.pid}-${counter++}`;
  return { type: 'device.blocked', severity: 'medium', occurredAt: '2026-11-25T10:00:00Z', data: { tag, pad: 'x'.repeat(counter % 200) } };
}

async function produce(): Promise<void> {
  for (;;) {
    const got = await spool.append(Array.from({ length: 1 + (counter % 4) }, event));
    process.stdout.write(got.map((e) => `d ${e.seq} ${String(e.data['tag'])}\n`).join(''));
    highest = Math.max(highest, got.at(-1)?.seq ?? 0);
  }
}

async function acknowledge(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const target = Math.min(highest - ACK_LAG, ackLimit);
    if (target > spool.stats().ackedSeq) {
      process.stdout.write(`a ${target}\n`);
      await spool.ack(target);
    }
  }
}

await Promise.all([...Array.from({ length: PRODUCERS }, produce), acknowledge()]);
