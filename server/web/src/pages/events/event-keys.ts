/**
 * The reviewer's keys, as a pure mapping from a key press to a page action, so the table works
 * through hundreds of rows without a mouse. `g` starts a two-key chord (`g r` reloads).
 */
import type { TriageStatus } from './event-query.js';

export type KeyAction =
  | { readonly kind: 'move'; readonly by: 1 | -1 }
  | { readonly kind: 'expand' }
  | { readonly kind: 'check' }
  | { readonly kind: 'triage'; readonly status: Exclude<TriageStatus, 'new'> }
  | { readonly kind: 'search' }
  | { readonly kind: 'reload' }
  | { readonly kind: 'help' }
  | { readonly kind: 'close' };

export interface KeyPress {
  readonly key: string;
  readonly ctrlKey?: boolean;
  readonly metaKey?: boolean;
  readonly altKey?: boolean;
  /** The element that has focus: keys typed into a field are the field's. */
  readonly targetTag?: string;
  readonly targetEditable?: boolean;
}

/** Keys listed in the page's help, in order: the key caps and the message key that describes them. */
export const KEY_HELP = [
  ['j / ↓', 'events.keys.down'],
  ['k / ↑', 'events.keys.up'],
  ['Enter / o', 'events.keys.expand'],
  ['x', 'events.keys.check'],
  ['a', 'events.keys.ack'],
  ['r', 'events.keys.resolve'],
  ['f', 'events.keys.falsePositive'],
  ['/', 'events.keys.search'],
  ['g r', 'events.keys.reload'],
  ['?', 'events.keys.help'],
] as const;

const TYPING_TAGS = new Set(['INPUT', 'TEXTAREA', 'SELECT']);
/** Where Enter already means something (follow a link, press a button). */
const ACTIVATING_TAGS = new Set(['A', 'BUTTON', 'SUMMARY']);

/**
 * The action for a key press and whether a `g` chord is now pending. Returns no action for keys
 * typed in a field, with Ctrl/Alt/Meta (the browser's own shortcuts), or that mean nothing here.
 */
export function keyAction(press: KeyPress, pendingG: boolean): { action: KeyAction | null; pendingG: boolean } {
  const none = { action: null, pendingG: false };
  if (press.ctrlKey || press.metaKey || press.altKey) return none;
  if (press.key === 'Escape') return { action: { kind: 'close' }, pendingG: false };
  if (press.targetEditable || (press.targetTag !== undefined && TYPING_TAGS.has(press.targetTag))) return none;
  if (pendingG) return press.key === 'r' ? { action: { kind: 'reload' }, pendingG: false } : none;
  const act = (action: KeyAction) => ({ action, pendingG: false });
  switch (press.key) {
    case 'j':
    case 'ArrowDown':
      return act({ kind: 'move', by: 1 });
    case 'k':
    case 'ArrowUp':
      return act({ kind: 'move', by: -1 });
    case 'Enter':
      return press.targetTag !== undefined && ACTIVATING_TAGS.has(press.targetTag) ? none : act({ kind: 'expand' });
    case 'o':
      return act({ kind: 'expand' });
    case 'x':
      return act({ kind: 'check' });
    case 'a':
      return act({ kind: 'triage', status: 'acknowledged' });
    case 'r':
      return act({ kind: 'triage', status: 'resolved' });
    case 'f':
      return act({ kind: 'triage', status: 'false-positive' });
    case '/':
      return act({ kind: 'search' });
    case '?':
      return act({ kind: 'help' });
    case 'g':
      return { action: null, pendingG: true };
    default:
      return none;
  }
}

/** The next selected row index, kept inside the table (no wrap: the end of the list is an edge). */
export function moveSelection(current: number, by: 1 | -1, rows: number): number {
  if (rows === 0) return -1;
  if (current < 0) return by === 1 ? 0 : rows - 1;
  return Math.min(Math.max(current + by, 0), rows - 1);
}
