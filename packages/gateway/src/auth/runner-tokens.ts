import type { Clock } from "@atelier/events";
import type { CatalogDb } from "../catalog/catalog.ts";
import { hashToken, newSecret, sameDigest } from "./tokens.ts";

/**
 * One runner token per agent (004): 256 random bits, shown once, stored as its SHA-256. Issuing
 * a new one replaces the old, which stops working at once.
 */
export class RunnerTokens {
  constructor(
    private readonly db: CatalogDb,
    private readonly clock: Clock,
  ) {}

  /** Issues (or re-issues) the token of `agent` in workspace `ws` and returns the secret. */
  issue(ws: string, agent: string): string {
    const token = newSecret();
    this.db
      .prepare("INSERT INTO runner_tokens (ws, agent, hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (ws, agent) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at")
      .run(ws, agent, hashToken(token), this.clock.now());
    return token;
  }

  /** Whether `token` is the current runner token of that agent. */
  verify(ws: string, agent: string, token: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(token)) return false;
    const row = this.db.prepare("SELECT hash FROM runner_tokens WHERE ws = ? AND agent = ?").get(ws, agent) as { hash: string } | undefined;
    return row !== undefined && sameDigest(row.hash, hashToken(token));
  }
}
