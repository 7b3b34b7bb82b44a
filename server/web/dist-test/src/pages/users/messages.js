/** Strings of the users page (see i18n/common-messages.ts for the rules). */
export const az = {
    'users.title': 'İstifadəçilər',
};
export const en = {
    'users.title': 'Users',
};
//# sourceMappingURL=messages.js.map