/** Strings of the devices page (see i18n/common-messages.ts for the rules). */
export const az = {
    'devices.title': 'Qurğular',
};
export const en = {
    'devices.title': 'Devices',
};
//# sourceMappingURL=messages.js.map