import type Database from "better-sqlite3";

/** What queries run against: a Projection (or anything caching prepared statements on its database). */
export interface Queryable {
  statement(sql: string): Database.Statement;
}

/** A page of rows and the cursor of the next page (undefined at the end). */
export interface Page<T> {
  readonly items: T[];
  readonly next: number | undefined;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export const clampLimit = (limit: number | undefined): number => Math.max(1, Math.min(MAX_LIMIT, Math.floor(limit ?? DEFAULT_LIMIT)));

/** Builds a page from `limit + 1` fetched rows: the extra row only says there is more. */
export const toPage = <T>(rows: T[], limit: number, cursor: (row: T) => number): Page<T> => {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, next: more ? cursor(items.at(-1)!) : undefined };
};
