/** Strings of the overview page (see i18n/common-messages.ts for the rules). */
export const az = {
  'overview.title': 'İcmal',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'overview.title': 'Overview',
};
