import { parseRuleFile, RuleSyntaxError } from '@portcullis/shared';

/** One syntax error in the edited rules, where the editor shows it (1-based line and column). */
export interface RuleProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Past this many the admin has enough to fix (the server stops at the same count). */
export const MAX_RULE_PROBLEMS = 20;

/**
 * Every bad line of rule text, with its line and column, by the same parser the server and the
 * agents use. Lines are independent in USBGuard's language, so parsing them one at a time finds
 * each error rather than only the first.
 */
export function checkRules(text: string): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && problems.length < MAX_RULE_PROBLEMS; i++) {
    try {
      parseRuleFile(lines[i] as string, 'rules');
    } catch (err) {
      if (!(err instanceof RuleSyntaxError)) throw err;
      problems.push({ line: i + 1, column: err.column, message: err.reason });
    }
  }
  return problems;
}

/** The textarea offset of a 1-based line and column, to put the caret on an error. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf('\n', offset);
  const lineLength = (end === -1 ? text.length : end) - offset;
  return offset + Math.min(Math.max(column - 1, 0), lineLength);
}
