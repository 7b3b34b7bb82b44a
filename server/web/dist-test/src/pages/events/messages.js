/** Strings of the events page (see i18n/common-messages.ts for the rules). */
export const az = {
    'events.title': 'Pozuntular jurnalı',
};
export const en = {
    'events.title': 'Violation log',
};
//# sourceMappingURL=messages.js.map