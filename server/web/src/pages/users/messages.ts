/** Strings of the users page (see i18n/common-messages.ts for the rules). */
export const az = {
  'users.title': 'İstifadəçilər',
} as const;

export const en: Readonly<Record<keyof typeof az, string>> = {
  'users.title': 'Users',
};
