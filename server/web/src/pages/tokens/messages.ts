/** Strings of the tokens page (see i18n/common-messages.ts for the rules). */
export const az = {
  'tokens.title': 'Qeydiyyat açarları',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'tokens.title': 'Enrollment tokens',
};
