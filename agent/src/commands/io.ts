import { readFileSync, statSync } from 'node:fs';

/** Where a command writes; tests pass buffers, the binary passes process streams. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes shared by every command. */
export const Exit = {
  OK: 0,
  /** The input was read but is wrong (a bad rule, a bad device line). */
  BAD_INPUT: 1,
  /** The command line is wrong or a file cannot be read. */
  USAGE: 2,
} as const;

/** A one-line failure the command reports and turns into an exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a text input file for a command: unreadable → usage error (exit 2); not UTF-8 → bad input
 * (exit 1) with the position of the first bad byte, because rules and devices are text.
 */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CommandError(`${path}: not a regular file`, Exit.USAGE);
    if (st.size > MAX_INPUT_BYTES) throw new CommandError(`${path}: larger than ${MAX_INPUT_BYTES} bytes`, Exit.USAGE);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CommandError(`${path}: cannot read file (${code})`, Exit.USAGE);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const { line, column } = firstInvalidUtf8(bytes);
    throw new CommandError(`${path}:${line}:${column}: not valid UTF-8 text`, Exit.BAD_INPUT);
  }
}

function firstInvalidUtf8(bytes: Buffer): { line: number; column: number } {
  const at = Math.max(0, firstInvalidUtf8Offset(bytes));
  const lineStart = bytes.lastIndexOf(0x0a, at - 1) + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
  const column = bytes.subarray(lineStart, at).toString('utf8').length + 1;
  return { line, column };
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8Offset(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || ((b[i + k] as number) & 0xc0) !== 0x80) return i;
    const c1 = b[i + 1] as number;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) {
      return i;
    }
    i += n + 1;
  }
  return -1;
}
