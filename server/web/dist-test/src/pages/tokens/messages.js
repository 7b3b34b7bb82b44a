/** Strings of the tokens page (see i18n/common-messages.ts for the rules). */
export const az = {
    'tokens.title': 'Qeydiyyat açarları',
};
export const en = {
    'tokens.title': 'Enrollment tokens',
};
//# sourceMappingURL=messages.js.map