import { sql, type Expression, type SqlBool } from 'kysely';

export type DialectKind = 'sqlite' | 'postgres';

/**
 * Everything that differs between the two back-ends, in one place, so the repos hold a single
 * query layer. Upserts (`ON CONFLICT … DO UPDATE`), `RETURNING`, keyset paging and text JSON are
 * portable through Kysely and need no entry here.
 */
export interface SqlFlavor {
  readonly kind: DialectKind;
  /**
   * Column type for the chained ids. In SQLite `integer primary key` is the rowid itself (the
   * cheapest append); PostgreSQL's `integer` is 32 bits.
   */
  readonly idType: 'integer' | 'bigint';
  /**
   * Row lock for a read-modify-write inside a transaction. SQLite needs none: the store's
   * SQLite transactions `BEGIN IMMEDIATE`, so a writer already holds the database write lock.
   */
  forUpdate<QB extends { forUpdate(): QB }>(qb: QB): QB;
  /** `text` contains `needle` ignoring (at least ASCII) case; `%`, `_` and `\` are literal. */
  containsIgnoringCase(text: Expression<string | null>, needle: string): Expression<SqlBool>;
  /**
   * A column reference the planner must not pick an index for. A time-window page is read in
   * occurred_at order; SQLite's planner would otherwise search by a filter's index (200,000 rows of
   * one group) and sort them, 80 ms, instead of walking the time index, under 2 ms.
   */
  withoutIndex(column: string): Expression<unknown>;
  /** The n-th (1-based) parameter placeholder of a raw statement: `?` or `$n`. */
  placeholder(n: number): string;
  /** Which integrity constraint a driver error reports, if any. */
  violatedConstraint(err: unknown): 'unique' | 'foreign-key' | 'check' | undefined;
}

/** LIKE pattern matching `needle` anywhere, with LIKE's wildcards (and the escape) escaped. */
export function likeContains(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

export const sqliteFlavor: SqlFlavor = {
  kind: 'sqlite',
  idType: 'integer',
  forUpdate: (qb) => qb,
  // SQLite's LIKE already ignores ASCII case.
  containsIgnoringCase: (text, needle) => sql<SqlBool>`${text} like ${likeContains(needle)} escape '\\'`,
  // SQLite's documented way: a unary + makes the term unusable for an index.
  withoutIndex: (column) => sql`+${sql.ref(column)}`,
  placeholder: () => '?',
  violatedConstraint(err) {
    switch (errorCode(err)) {
      case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      case 'SQLITE_CONSTRAINT_UNIQUE':
        return 'unique';
      case 'SQLITE_CONSTRAINT_FOREIGNKEY':
        return 'foreign-key';
      case 'SQLITE_CONSTRAINT_CHECK':
        return 'check';
      default:
        return undefined;
    }
  },
};

export const postgresFlavor: SqlFlavor = {
  kind: 'postgres',
  idType: 'bigint',
  forUpdate: (qb) => qb.forUpdate(),
  containsIgnoringCase: (text, needle) => sql<SqlBool>`${text} ilike ${likeContains(needle)} escape '\\'`,
  // PostgreSQL has no such trick and needs none: its planner weighs the (occurred_at, id) index.
  withoutIndex: (column) => sql.ref(column),
  placeholder: (n) => `$${n}`,
  violatedConstraint(err) {
    switch (errorCode(err)) {
      case '23505':
        return 'unique';
      case '23503':
        return 'foreign-key';
      case '23514':
        return 'check';
      default:
        return undefined;
    }
  },
};
