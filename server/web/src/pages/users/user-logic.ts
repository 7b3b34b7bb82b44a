/** Pure helpers of the users page. */
import type { Role } from '../../app-context.js';

export interface UserView {
  readonly username: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly disabled: boolean;
}

/** The server's rules (server/src/auth/passwords.ts, user-routes.ts), shown before it refuses. */
export const MIN_PASSWORD_LENGTH = 12;
/** As an HTML `pattern` (anchored by the browser): the server's USERNAME_PATTERN. */
export const USERNAME_PATTERN = '[a-z][a-z0-9._\\-]{1,63}';

const ROLE_ORDER: Readonly<Record<Role, number>> = { admin: 0, security: 1, viewer: 2 };

/** Active users first, then by role (admins first), then by name. */
export function sortUsers(users: readonly UserView[]): UserView[] {
  return [...users].sort(
    (a, b) => Number(a.disabled) - Number(b.disabled) || ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.username.localeCompare(b.username),
  );
}
