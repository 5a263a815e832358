import { clampLimit, type Page, type Queryable, toPage } from "./queryable.ts";

export interface Message {
  readonly seq: number;
  readonly at: number;
  /** user (a prompt sent to `agent`) | agent (its final response) | bus (a durable channel message) */
  readonly kind: string;
  /** The agent the message is to (user), from (agent) or sent by (bus). */
  readonly agent: string;
  readonly author: string;
  readonly channel: string | null;
  /** The prompt id (user, agent) or bus message id. */
  readonly ref: string | null;
  readonly body: string;
  readonly tokensIn: number | null;
  readonly tokensOut: number | null;
  readonly cost: number | null;
}

export interface MessageQuery {
  readonly agent?: string;
  /** Only bus messages of this channel (e.g. `file_modified`, the artifacts of context assembly). */
  readonly channel?: string;
  /** Only messages with seq below this (the `next` of the previous page); newest first. */
  readonly before?: number;
  readonly limit?: number;
}

const COLUMNS = "seq, at, kind, agent, author, channel, ref, body, tokens_in AS tokensIn, tokens_out AS tokensOut, cost";

/** Messages newest first, a page at a time. */
export const listMessages = (q: Queryable, query: MessageQuery = {}): Page<Message> => {
  const limit = clampLimit(query.limit);
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  const where = ["seq < ?"];
  const params: Array<string | number> = [before];
  if (query.agent !== undefined) (where.unshift("agent = ?"), params.unshift(query.agent));
  if (query.channel !== undefined) (where.push("channel = ?"), params.push(query.channel));
  const rows = q.statement(`SELECT ${COLUMNS} FROM messages WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`).all(...params, limit + 1) as Message[];
  return toPage(rows, limit, (m) => m.seq);
};
