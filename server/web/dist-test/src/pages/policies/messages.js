/** Strings of the policies page (see i18n/common-messages.ts for the rules). */
export const az = {
    'policies.title': 'Siyasətlər',
};
export const en = {
    'policies.title': 'Policies',
};
//# sourceMappingURL=messages.js.map