/** Strings of the events page (see i18n/common-messages.ts for the rules). */
export const az = {
  'events.title': 'Pozuntular jurnalı',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'events.title': 'Violation log',
};
