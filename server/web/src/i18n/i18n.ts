import { az, en, type MessageKey, type Messages } from './catalogue.js';

export const LOCALES = ['az', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'az';

const CATALOGUES: Readonly<Record<Locale, Messages>> = { az, en };

/** The BCP 47 tags for `Intl`: plural rules by language, dates day first in both. */
const INTL_TAG: Readonly<Record<Locale, string>> = { az: 'az-Latn-AZ', en: 'en-GB' };

/**
 * The plural forms a message may have, as `Intl.PluralRules` names them. Azerbaijani and English
 * both use `one` and `other` (an Azerbaijani noun after a number does not change, so its two
 * forms may be equal); test/i18n.test.ts checks that every plural message has each form the
 * languages need.
 */
export const PLURAL_FORMS = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;
export type PluralForm = (typeof PLURAL_FORMS)[number];

/** `events.shown` for the pair `events.shown.one` / `events.shown.other`. */
type PluralBase<K> = K extends `${infer B}.other` ? (`${B}.one` extends MessageKey ? B : never) : never;
export type PluralKey = PluralBase<MessageKey>;

/**
 * A message to show later, kept as its key and parameters rather than as text, so it follows a
 * language switch. A parameter may itself be a message (a translated status inside a sentence).
 * A plural message takes its form from the `count` parameter.
 */
export interface Msg {
  readonly key: MessageKey | PluralKey;
  readonly params?: MsgParams;
}
export type MsgParams = Readonly<Record<string, string | number | Msg>>;

export function msg(key: MessageKey, params?: MsgParams): Msg {
  return params === undefined ? { key } : { key, params };
}

/** A plural message: `msgN('devices.count', 3)` is "3 devices" / "3 qurğu". */
export function msgN(key: PluralKey, count: number, params: MsgParams = {}): Msg {
  return { key, params: { ...params, count } };
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

const pluralRules = new Map<Locale, Intl.PluralRules>();

/** The plural form `count` takes in `locale` (`one` for 1, `other` for 0, 2, 5, … in both languages). */
export function pluralForm(locale: Locale, count: number): PluralForm {
  let rules = pluralRules.get(locale);
  if (rules === undefined) {
    rules = new Intl.PluralRules(INTL_TAG[locale]);
    pluralRules.set(locale, rules);
  }
  return rules.select(count) as PluralForm;
}

/** The plural forms `locale` distinguishes for cardinal numbers. */
export function pluralForms(locale: Locale): PluralForm[] {
  return new Intl.PluralRules(INTL_TAG[locale]).resolvedOptions().pluralCategories as PluralForm[];
}

function template(locale: Locale, key: string, params: MsgParams): string {
  const catalogue = CATALOGUES[locale] as Readonly<Record<string, string>>;
  if (Object.hasOwn(catalogue, key)) return catalogue[key] as string;
  // A plural message: its form by the count (a missing count reads as "other", visibly `{count}`).
  const count = params.count;
  const form = typeof count === 'number' ? pluralForm(locale, count) : 'other';
  return catalogue[`${key}.${form}`] ?? catalogue[`${key}.other`] ?? key;
}

/**
 * The text for `key` in `locale`, with `{param}` replaced. A missing parameter stays visible as
 * `{param}` rather than vanishing, so a mistake shows on screen and in the tests. `key` may be a
 * plural message's base key (`events.shown`): the form is chosen by `params.count`.
 */
export function translate(locale: Locale, key: MessageKey | PluralKey, params: MsgParams = {}): string {
  return template(locale, key, params).replace(/\{([a-zA-Z0-9_]+)\}/g, (whole, name: string) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = params[name] as string | number | Msg;
    return typeof value === 'object' ? translate(locale, value.key, value.params) : String(value);
  });
}

/** A plural message with its count: `translatePlural('en', 'devices.count', 1)` is "1 device". */
export function translatePlural(locale: Locale, key: PluralKey, count: number, params: MsgParams = {}): string {
  return translate(locale, key, { ...params, count });
}

/** A kept message, in `locale`; a plain string is a value shown as sent (a name, a server's words). */
export function translateMsg(locale: Locale, m: Msg | string): string {
  return typeof m === 'string' ? m : translate(locale, m.key, m.params);
}

/** Every key of every catalogue, for the completeness test. */
export function catalogueKeys(locale: Locale): string[] {
  return Object.keys(CATALOGUES[locale]).sort();
}

/** `Intl` formatting of a timestamp in the console's locale (az-Latn-AZ or en-GB: day first in both). */
const TIME_FORMATS = new Map<Locale, Intl.DateTimeFormat>();

export function formatTime(locale: Locale, iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  // One formatter per language: building one per row cost milliseconds on a 100-row page.
  let format = TIME_FORMATS.get(locale);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: 'short', timeStyle: 'medium' });
    TIME_FORMATS.set(locale, format);
  }
  return format.format(d);
}

export type { MessageKey };
