/** Strings of the devices page (see i18n/common-messages.ts for the rules). */
export const az = {
  'devices.title': 'Qurğular',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'devices.title': 'Devices',
};
