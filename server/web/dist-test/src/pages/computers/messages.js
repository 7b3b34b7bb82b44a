/** Strings of the computers page (see i18n/common-messages.ts for the rules). */
export const az = {
    'computers.title': 'Kompüterlər',
};
export const en = {
    'computers.title': 'Computers',
};
//# sourceMappingURL=messages.js.map