/** Strings of the audit page (see i18n/common-messages.ts for the rules). */
export const az = {
  'audit.title': 'Audit izi',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'audit.title': 'Audit trail',
};
