import { type MessageKey } from './catalogue.js';
export declare const LOCALES: readonly ["az", "en"];
export type Locale = (typeof LOCALES)[number];
export declare const DEFAULT_LOCALE: Locale;
export declare function isLocale(value: unknown): value is Locale;
/**
 * The text for `key` in `locale`, with `{param}` replaced. A missing parameter stays visible as
 * `{param}` rather than vanishing, so a mistake shows on screen and in the tests.
 */
export declare function translate(locale: Locale, key: MessageKey, params?: Readonly<Record<string, string | number>>): string;
/** Every key of every catalogue, for the completeness test. */
export declare function catalogueKeys(locale: Locale): string[];
/** `Intl` formatting of a timestamp in the console's locale (az-Latn-AZ or en-GB: day first in both). */
export declare function formatTime(locale: Locale, iso: string): string;
export type { MessageKey };
//# sourceMappingURL=i18n.d.ts.map