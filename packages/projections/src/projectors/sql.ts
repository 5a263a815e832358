/** A value SQLite stores as is (no booleans or undefined: the projector decides 0/1 and null). */
export type SqlValue = string | number | bigint | null;

/** One parameterised SQL statement a projector asks the engine to run. */
export interface Stmt {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export const stmt = (sql: string, ...params: SqlValue[]): Stmt => ({ sql, params });

/** A JSON value as text, or null for undefined. */
export const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
