/** Strings of the policies page (see i18n/common-messages.ts for the rules). */
export const az = {
  'policies.title': 'Siyasətlər',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'policies.title': 'Policies',
};
