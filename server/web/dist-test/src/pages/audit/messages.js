/** Strings of the audit page (see i18n/common-messages.ts for the rules). */
export const az = {
    'audit.title': 'Audit izi',
};
export const en = {
    'audit.title': 'Audit trail',
};
//# sourceMappingURL=messages.js.map