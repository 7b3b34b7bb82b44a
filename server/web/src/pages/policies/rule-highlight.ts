import { SET_OPERATORS, TARGETS } from '@portcullis/shared';

/** What a piece of a rule line is, for the editor's highlighted layer (one CSS class each). */
export type TokenKind = 'target' | 'attribute' | 'string' | 'comment' | 'operator' | 'condition' | 'text';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** For a target: which one (allow, block, reject, readonly), so each gets its colour. */
  readonly target?: string;
}

const IS_TARGET: ReadonlySet<string> = new Set(TARGETS);
const IS_SET_OPERATOR: ReadonlySet<string> = new Set(SET_OPERATORS);
const ATTRIBUTES: ReadonlySet<string> = new Set([
  'id', 'hash', 'parent-hash', 'name', 'serial', 'via-port', 'with-interface', 'with-connect-type', 'label', 'if',
]);
const CONDITIONS: ReadonlySet<string> = new Set(['localtime', 'true', 'false', 'random', 'allowed-matches', 'rule-applied', 'rule-evaluated']);

/**
 * Splits one rule line into tokens for display only (the parser decides what is valid; a broken
 * line still highlights what it can). Concatenating the tokens' text gives the line back exactly,
 * so the highlighted layer stays aligned with the textarea above it:
 *
 *     allow id 1d6b:* name "Hub # 1" with-interface one-of { 09:00:* } # root hubs
 */
export function tokenizeRuleLine(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let plain = '';
  const flush = () => {
    if (plain.length > 0) tokens.push({ kind: 'text', text: plain });
    plain = '';
  };
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '#') {
      flush();
      tokens.push({ kind: 'comment', text: line.slice(i) });
      return tokens;
    }
    if (c === '"') {
      flush();
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      const end = Math.min(j + 1, line.length);
      tokens.push({ kind: 'string', text: line.slice(i, end) });
      i = end;
      continue;
    }
    if (c === '{' || c === '}' || c === '!') {
      flush();
      tokens.push({ kind: 'operator', text: c });
      i++;
      continue;
    }
    if (/[A-Za-z]/.test(c) && (i === 0 || /[\s{}(!]/.test(line[i - 1] as string))) {
      let j = i;
      while (j < line.length && /[A-Za-z0-9_-]/.test(line[j] as string)) j++;
      const word = line.slice(i, j);
      // A word glued to more (`1d6b:*`, `08:00-18:00`) is a value, not a keyword.
      const next = line[j];
      const standalone = next === undefined || /[\s{}()]/.test(next);
      const kind = !standalone ? undefined : IS_TARGET.has(word) ? 'target' : ATTRIBUTES.has(word) ? 'attribute' : IS_SET_OPERATOR.has(word) ? 'operator' : CONDITIONS.has(word) ? 'condition' : undefined;
      if (kind !== undefined) {
        flush();
        tokens.push(kind === 'target' ? { kind, text: word, target: word } : { kind, text: word });
        i = j;
        continue;
      }
      plain += word;
      i = j;
      continue;
    }
    plain += c;
    i++;
  }
  flush();
  return tokens;
}
