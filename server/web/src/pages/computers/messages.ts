/** Strings of the computers page (see i18n/common-messages.ts for the rules). */
export const az = {
  'computers.title': 'Kompüterlər',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'computers.title': 'Computers',
};
