import { CommandError, Exit } from './io.js';

/**
 * Runs node:util parseArgs (strict) and turns its errors (unknown flag, missing value) into
 * one-line usage errors instead of stack traces.
 */
export function withUsageErrors<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new CommandError(`${command}: ${message} (see --help)`, Exit.USAGE);
  }
}
