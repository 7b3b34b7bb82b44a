import type { Selectable } from 'kysely';
import type { SessionsTable, UsersTable } from './schema.js';
import type { Role, SessionRecord, UserRecord } from './store.js';
import { changedRows, guarded, type StoreContext } from './repo-support.js';

/** Console users and their login sessions. */
export class AccountsRepo {
  constructor(private readonly ctx: StoreContext) {}

  async createUser(user: Omit<UserRecord, 'createdAt' | 'disabled'>, at: string): Promise<void> {
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('users')
          .values({ username: user.username, role: user.role, password_hash: user.passwordHash, created_at: at, disabled: 0 })
          .execute(),
      { duplicate: `user ${user.username} already exists` },
    );
  }

  async getUser(username: string): Promise<UserRecord | undefined> {
    const row = await this.ctx.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.ctx.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUser);
  }

  async setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    const result = await this.ctx.db.updateTable('users').set({ password_hash: passwordHash }).where('username', '=', username).executeTakeFirst();
    return changedRows(result) > 0;
  }

  async setUserDisabled(username: string, disabled: boolean): Promise<boolean> {
    const result = await this.ctx.db.updateTable('users').set({ disabled: disabled ? 1 : 0 }).where('username', '=', username).executeTakeFirst();
    return changedRows(result) > 0;
  }

  async setUserRole(username: string, role: Role): Promise<boolean> {
    const result = await this.ctx.db.updateTable('users').set({ role }).where('username', '=', username).executeTakeFirst();
    return changedRows(result) > 0;
  }

  async createSession(session: SessionRecord): Promise<void> {
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('sessions')
          .values({ token_hash: session.tokenHash, username: session.username, created_at: session.createdAt, expires_at: session.expiresAt })
          .execute(),
      { duplicate: 'a session with this token already exists', missingReference: `user ${session.username} does not exist` },
    );
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const row = await this.ctx.db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toSession(row);
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.ctx.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  async deleteSessionsOf(username: string): Promise<number> {
    return changedRows(await this.ctx.db.deleteFrom('sessions').where('username', '=', username).executeTakeFirst());
  }

  /** Deletes the sessions that have expired at `now` (expires_at <= now); returns how many. */
  async deleteExpiredSessions(now: string): Promise<number> {
    const result = await this.ctx.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return changedRows(result);
  }
}

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    username: row.username,
    role: row.role as Role,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    disabled: row.disabled !== 0,
  };
}

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return { tokenHash: row.token_hash, username: row.username, createdAt: row.created_at, expiresAt: row.expires_at };
}
