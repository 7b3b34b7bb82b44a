import { az, en } from './catalogue.js';
export const LOCALES = ['az', 'en'];
export const DEFAULT_LOCALE = 'az';
const CATALOGUES = { az, en };
export function isLocale(value) {
    return typeof value === 'string' && LOCALES.includes(value);
}
/**
 * The text for `key` in `locale`, with `{param}` replaced. A missing parameter stays visible as
 * `{param}` rather than vanishing, so a mistake shows on screen and in the tests.
 */
export function translate(locale, key, params = {}) {
    const text = CATALOGUES[locale][key];
    return text.replace(/\{([a-zA-Z0-9_]+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}
/** Every key of every catalogue, for the completeness test. */
export function catalogueKeys(locale) {
    return Object.keys(CATALOGUES[locale]).sort();
}
/** `Intl` formatting of a timestamp in the console's locale (az-Latn-AZ or en-GB: day first in both). */
export function formatTime(locale, iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime()))
        return iso;
    return new Intl.DateTimeFormat(locale === 'az' ? 'az-Latn-AZ' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' }).format(d);
}
//# sourceMappingURL=i18n.js.map