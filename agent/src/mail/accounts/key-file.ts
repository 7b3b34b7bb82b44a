/**
 * Reader for the `[Group]` / `key=value` files three of the clients keep: Mozilla's
 * `profiles.ini` and GLib's key files (Evolution's `.source` files, GNOME Online Accounts'
 * `accounts.conf`):
 *
 *     # a comment
 *     [Account account_1565352200_1]
 *     Provider=imap_smtp
 *     Name=Ahmed\sBenali
 *     Name[fr]=Ahmed Benali
 *
 * Groups are merged when one repeats and a repeated key keeps its last value, as GLib does. With
 * `escapes` the GLib escapes of a value (`\s \n \t \r \\`) are decoded; Mozilla's INI has none.
 * A line that is neither a group, a key nor a comment is reported by number and skipped: the
 * rest of the file is still read. Lines are never quoted in a problem (a value may be a secret).
 */

export type KeyFileGroups = ReadonlyMap<string, ReadonlyMap<string, string>>;
export type KeyFileResult = { readonly groups: KeyFileGroups; readonly problems: string[] };

const GROUP = /^\[([^\]\u0000-\u001f]+)\]\s*$/;
const KEY = /^([A-Za-z0-9_.\-@]+(?:\[[^\]]*\])?)\s*=(.*)$/;
/** Enough to say a file is broken without a page of lines each. */
const MAX_PROBLEMS_PER_FILE = 5;

export function parseKeyFile(text: string, options: { readonly escapes: boolean }): KeyFileResult {
  const groups = new Map<string, Map<string, string>>();
  const bad: number[] = [];
  let current: Map<string, string> | undefined;
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, index) => {
    const line = (raw.endsWith('\r') ? raw.slice(0, -1) : raw).trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const group = GROUP.exec(line);
    if (group) {
      const name = group[1] as string;
      current = groups.get(name) ?? new Map<string, string>();
      groups.set(name, current);
      return;
    }
    const pair = KEY.exec(line);
    if (pair && current) {
      const value = (pair[2] as string).trim();
      current.set(pair[1] as string, options.escapes ? unescapeValue(value) : value);
      return;
    }
    bad.push(index + 1);
  });
  return { groups, problems: describeBadLines(bad) };
}

function describeBadLines(lines: readonly number[]): string[] {
  if (lines.length === 0) return [];
  const shown = lines.slice(0, MAX_PROBLEMS_PER_FILE).join(', ');
  const more = lines.length > MAX_PROBLEMS_PER_FILE ? ` and ${lines.length - MAX_PROBLEMS_PER_FILE} more` : '';
  return [`unreadable line${lines.length === 1 ? '' : 's'} ${shown}${more} (not a [group], key=value or comment) skipped`];
}

const ESCAPES: Readonly<Record<string, string>> = { s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** GLib's value escapes; an unknown one is kept as written. */
function unescapeValue(value: string): string {
  return value.replace(/\\(.)/g, (whole, ch: string) => ESCAPES[ch] ?? whole);
}

/** A GLib boolean: `true`/`false` (GLib also takes 1/0). Undefined when absent or neither. */
export function keyFileBoolean(value: string | undefined): boolean | undefined {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return undefined;
}
