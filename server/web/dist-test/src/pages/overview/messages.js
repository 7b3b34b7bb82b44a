/** Strings of the overview page (see i18n/common-messages.ts for the rules). */
export const az = {
    'overview.title': 'İcmal',
};
export const en = {
    'overview.title': 'Overview',
};
//# sourceMappingURL=messages.js.map