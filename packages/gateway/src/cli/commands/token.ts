import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { systemClock } from "@atelier/events";
import { roles, type Role } from "../../auth/roles.ts";
import { TokenStore } from "../../auth/tokens.ts";
import { openCatalog } from "../../catalog/catalog.ts";
import { UsageError, parseCommandArgs, type Command } from "../command.ts";

export const DEFAULT_DATA = "./.atelier";
const dataOption = { data: { type: "string" } } as const;

/** Runs `fn` with the token store of `<data>/catalog.db`. */
const withTokens = async <T>(data: string | undefined, fn: (tokens: TokenStore) => T): Promise<T> => {
  const dir = data ?? DEFAULT_DATA;
  mkdirSync(dir, { recursive: true });
  const db = openCatalog(join(dir, "catalog.db"));
  try {
    return fn(new TokenStore(db, systemClock));
  } finally {
    db.close();
  }
};

/** `90s`, `30m`, `12h`, `7d` (or plain milliseconds) → milliseconds. */
export const parseTtl = (text: string): number => {
  const m = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new UsageError(`--ttl must look like 90s, 30m, 12h or 7d, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "ms"]!;
  const ms = Number(m[1]) * unit;
  if (ms < 1000) throw new UsageError("--ttl must be at least 1s");
  return ms;
};

export const tokenCreate: Command = {
  path: ["token", "create"],
  usage: "atelier token create --role <r> [--name n] [--ttl 7d]",
  summary: "issue an API token (owner|collaborator|viewer), shown once; all token commands take --data",
  async run(args, io) {
    const { values } = parseCommandArgs(args, { ...dataOption, role: { type: "string" }, name: { type: "string" }, ttl: { type: "string" } }, { min: 0, max: 0 });
    if (!values.role || !(roles as readonly string[]).includes(values.role)) throw new UsageError(`--role must be one of ${roles.join(", ")}`);
    const role = values.role as Role;
    const ttl = values.ttl === undefined ? undefined : parseTtl(values.ttl);
    const { id, token } = await withTokens(values.data, (t) => t.create(role, values.name ?? role, ttl));
    io.out(`${id} ${role} ${token}`);
    io.err("the token is shown once; store it now");
    return 0;
  },
};

export const tokenList: Command = {
  path: ["token", "list"],
  usage: "atelier token list",
  summary: "list API tokens (ids, roles, expiry, revocation; never the secrets)",
  async run(args, io) {
    const { values } = parseCommandArgs(args, dataOption, { min: 0, max: 0 });
    const list = await withTokens(values.data, (t) => t.list());
    const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
    io.out(["id".padEnd(13), "role".padEnd(13), "name".padEnd(20), "created".padEnd(25), "expires".padEnd(25), "revoked"].join(" "));
    for (const t of list) io.out([t.id.padEnd(13), t.role.padEnd(13), t.name.slice(0, 20).padEnd(20), when(t.createdAt).padEnd(25), when(t.expiresAt).padEnd(25), when(t.revokedAt)].join(" "));
    return 0;
  },
};

export const tokenRevoke: Command = {
  path: ["token", "revoke"],
  usage: "atelier token revoke <id>",
  summary: "revoke an API token; its open sockets close within a second",
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, dataOption, { min: 1, max: 1 });
    const id = positionals[0]!;
    if (!(await withTokens(values.data, (t) => t.revoke(id)))) {
      io.err(`atelier: no live token ${id}`);
      return 1;
    }
    io.out(`revoked ${id}`);
    return 0;
  },
};
