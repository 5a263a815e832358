import { json, stmt } from "./sql.ts";
import type { Part } from "./types.ts";

/** Shared context (key → value, updatedBy, updatedAt) and durable bus messages. */
export const contextProjectors = {
  "context.updated": ({ seq, payload: p }) => [
    stmt(
      `INSERT INTO shared_context (key, value, updated_by, updated_at, seq) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET
           value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at, seq = excluded.seq`,
      p.key, json(p.value) ?? "null", p.updatedBy, p.at, seq,
    ),
  ],
  "context.deleted": ({ payload: p }) => [stmt("DELETE FROM shared_context WHERE key = ?", p.key)],
  "bus.published": ({ seq, payload: p }) => [
    stmt(
      "INSERT INTO messages (seq, at, kind, agent, author, channel, ref, body) VALUES (?, ?, 'bus', ?, ?, ?, ?, ?)",
      seq, p.at, p.sender, p.sender, p.channel, p.messageId, json(p.body) ?? "null",
    ),
  ],
} satisfies Part;
