import { az, en, type MessageKey, type Messages } from './catalogue.js';

export const LOCALES = ['az', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'az';

const CATALOGUES: Readonly<Record<Locale, Messages>> = { az, en };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The text for `key` in `locale`, with `{param}` replaced. A missing parameter stays visible as
 * `{param}` rather than vanishing, so a mistake shows on screen and in the tests.
 */
export function translate(locale: Locale, key: MessageKey, params: Readonly<Record<string, string | number>> = {}): string {
  const text = CATALOGUES[locale][key];
  return text.replace(/\{([a-zA-Z0-9_]+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** Every key of every catalogue, for the completeness test. */
export function catalogueKeys(locale: Locale): string[] {
  return Object.keys(CATALOGUES[locale]).sort();
}

/** `Intl` formatting of a timestamp in the console's locale (az-Latn-AZ or en-GB: day first in both). */
export function formatTime(locale: Locale, iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale === 'az' ? 'az-Latn-AZ' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' }).format(d);
}

export type { MessageKey };
