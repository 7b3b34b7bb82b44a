import type { Condition, Rule } from './ast.js';

/**
 * Builds a rule condition from its identifier and raw parameter, as USBGuard's
 * `RuleConditionBase::getImplementation` does, but strict about parameters: USBGuard 1.1.2 reads
 * them with strptime/stod and silently accepts trailing garbage (`localtime(08:00x)`); a policy
 * that controls a ministry's USB ports must not mean something other than what it says.
 *
 * Returns an error message (string) instead of throwing, so the parser can place it.
 */
export function buildCondition(
  name: string,
  param: string | null,
  negated: boolean,
  parseQuery: (param: string) => Rule,
): Condition | string {
  switch (name) {
    case 'true':
    case 'false':
      // USBGuard ignores (and does not print) a parameter on true/false.
      return { kind: name, negated };
    case 'localtime': {
      if (param === null) return 'localtime needs a time or a range, e.g. localtime(08:00-18:00)';
      const dash = param.indexOf('-');
      const beginText = dash < 0 ? param : param.slice(0, dash);
      const endText = dash < 0 ? null : param.slice(dash + 1);
      const begin = parseDaytime(beginText);
      if (begin === null) return `bad time '${beginText}' in localtime: expected HH:MM or HH:MM:SS`;
      const end = endText === null ? begin : parseDaytime(endText);
      if (end === null) return `bad time '${endText}' in localtime: expected HH:MM or HH:MM:SS`;
      if (begin > end) {
        return `localtime range ${param} begins after it ends (USBGuard ranges cannot cross midnight; negate the day range instead, e.g. !localtime(${endText}-${beginText}))`;
      }
      return { kind: 'localtime', negated, param, begin, end };
    }
    case 'random': {
      if (param === null) return { kind: 'random', negated, param, probability: 0.5 };
      if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(param)) {
        return `bad probability '${param}' in random: expected a number from 0 to 1`;
      }
      const probability = Number(param);
      if (!(probability >= 0 && probability <= 1)) {
        return `bad probability '${param}' in random: expected a number from 0 to 1`;
      }
      return { kind: 'random', negated, param, probability };
    }
    case 'rule-applied':
    case 'rule-evaluated': {
      if (param === null) return { kind: name, negated, param, withinSeconds: 0 };
      const seconds = /^\d+$/.test(param) ? Number(param) : parseDaytime(param);
      if (seconds === null || !Number.isSafeInteger(seconds)) {
        return `bad duration '${param}' in ${name}: expected SS, HH:MM or HH:MM:SS`;
      }
      return { kind: name, negated, param, withinSeconds: seconds };
    }
    case 'allowed-matches': {
      if (param === null) return 'allowed-matches needs a device query, e.g. allowed-matches(with-interface 03:01:01)';
      try {
        return { kind: 'allowed-matches', negated, param, query: parseQuery(param) };
      } catch (err) {
        const reason = err instanceof Error && 'reason' in err ? String(err.reason) : String(err);
        return `bad query in allowed-matches: ${reason}`;
      }
    }
    default:
      return `unknown condition '${name}' (known: localtime, true, false, random, allowed-matches, rule-applied, rule-evaluated)`;
  }
}

/** `H:MM`, `HH:MM` or `HH:MM:SS` → seconds since midnight, or null. */
function parseDaytime(text: string): number | null {
  const m = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || min > 59 || s > 59) return null;
  return h * 3600 + min * 60 + s;
}
