/**
 * The parsed form of a USBGuard rule (usbguard-rules.conf(5)) plus Portcullis' one extension,
 * the `readonly` target. Values keep what the printer needs to print them exactly as
 * `usbguard-rule-parser` does (a device id keeps the case it was written in, a condition keeps
 * its raw parameter text).
 *
 * Strings are byte strings: each UTF-16 unit holds one byte (0..255), because USBGuard compares
 * and prints bytes (`name "é"` prints as `name "\xc3\xa9"`). `toByteString` converts device
 * values before they are compared.
 */

export const TARGETS = ['allow', 'block', 'reject', 'readonly'] as const;
export type Target = (typeof TARGETS)[number];

export const SET_OPERATORS = ['all-of', 'one-of', 'none-of', 'equals', 'equals-ordered', 'match-all'] as const;
export type SetOperator = (typeof SET_OPERATORS)[number];

/** `vvvv:pppp`, `vvvv:*` or `*:*`; `text` is the id as written (USBGuard prints it unchanged). */
export interface DeviceIdPattern {
  readonly text: string;
  /** Lower-case 4 hex digits, or null for `*`. */
  readonly vendor: string | null;
  /** Lower-case 4 hex digits, or null for `*`. */
  readonly product: string | null;
}

/** `cc:ss:pp`, `cc:ss:*` or `cc:*:*`; null stands for `*`. */
export interface InterfacePattern {
  readonly cls: number;
  readonly subclass: number | null;
  readonly protocol: number | null;
}

export const CONDITION_NAMES = [
  'localtime',
  'true',
  'false',
  'random',
  'allowed-matches',
  'rule-applied',
  'rule-evaluated',
] as const;
export type ConditionName = (typeof CONDITION_NAMES)[number];

export type Condition =
  | { readonly kind: 'true' | 'false'; readonly negated: boolean }
  | {
      readonly kind: 'localtime';
      readonly negated: boolean;
      readonly param: string;
      /** Seconds since local midnight, inclusive on both ends (as USBGuard). */
      readonly begin: number;
      readonly end: number;
    }
  | { readonly kind: 'random'; readonly negated: boolean; readonly param: string | null; readonly probability: number }
  | {
      readonly kind: 'rule-applied' | 'rule-evaluated';
      readonly negated: boolean;
      readonly param: string | null;
      /** 0 means "ever". */
      readonly withinSeconds: number;
    }
  | { readonly kind: 'allowed-matches'; readonly negated: boolean; readonly param: string; readonly query: Rule };

export interface Attribute<T> {
  readonly operator: SetOperator;
  readonly values: readonly T[];
}

export interface Rule {
  readonly target: Target;
  readonly id?: Attribute<DeviceIdPattern>;
  readonly serial?: Attribute<string>;
  readonly name?: Attribute<string>;
  readonly hash?: Attribute<string>;
  readonly parentHash?: Attribute<string>;
  readonly viaPort?: Attribute<string>;
  readonly withInterface?: Attribute<InterfacePattern>;
  readonly conditions?: Attribute<Condition>;
  readonly withConnectType?: Attribute<string>;
  readonly label?: Attribute<string>;
  /** 1-based line of the rule in its source text. */
  readonly line: number;
}

/** The string attributes, in the order USBGuard prints a rule (conditions sit between). */
export type StringAttributeKey = 'serial' | 'name' | 'hash' | 'parentHash' | 'viaPort' | 'withConnectType' | 'label';
