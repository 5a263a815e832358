import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "@atelier/events";
import type { CatalogDb } from "../catalog/catalog.ts";
import type { Role } from "./roles.ts";

/** The identity behind a verified token. */
export interface Principal {
  readonly tokenId: string;
  readonly role: Role;
  readonly name: string;
}

export interface TokenInfo {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

/** SHA-256 of a token, hex: what is stored, so a leaked database leaks no usable token. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** 32 random bytes as hex: the secret shown once. */
export const newSecret = (): string => randomBytes(32).toString("hex");

/** Compares two hex digests in constant time. */
export const sameDigest = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Bearer tokens with roles, expiry and revocation, stored hashed in the catalogue. */
export class TokenStore {
  constructor(
    private readonly db: CatalogDb,
    private readonly clock: Clock,
  ) {}

  /** Creates a token and returns its secret; only the hash is kept. */
  create(role: Role, name: string, ttlMs?: number): { id: string; token: string } {
    const token = newSecret();
    const id = `tok_${token.slice(0, 8)}`;
    const now = this.clock.now();
    this.db
      .prepare("INSERT INTO tokens (id, hash, role, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, hashToken(token), role, name, now, ttlMs === undefined ? null : now + ttlMs);
    return { id, token };
  }

  /** The principal for a presented secret, or undefined when unknown, expired or revoked. */
  verify(token: string): Principal | undefined {
    if (!/^[0-9a-f]{64}$/.test(token)) return undefined;
    const row = this.db.prepare("SELECT id, role, name, expires_at, revoked_at FROM tokens WHERE hash = ?").get(hashToken(token)) as
      | { id: string; role: Role; name: string; expires_at: number | null; revoked_at: number | null }
      | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    if (row.expires_at !== null && row.expires_at <= this.clock.now()) return undefined;
    return { tokenId: row.id, role: row.role, name: row.name };
  }

  /**
   * Whether token `id` is still usable: open sockets re-check this, so a revoked or expired
   * token stops its sessions (SIMULATION I18).
   */
  live(id: string): boolean {
    const row = this.db.prepare("SELECT expires_at, revoked_at FROM tokens WHERE id = ?").get(id) as
      | { expires_at: number | null; revoked_at: number | null }
      | undefined;
    return row !== undefined && row.revoked_at === null && (row.expires_at === null || row.expires_at > this.clock.now());
  }

  /** When token `id` expires (epoch ms), or null when it does not. */
  expiresAt(id: string): number | null {
    const row = this.db.prepare("SELECT expires_at FROM tokens WHERE id = ?").get(id) as { expires_at: number | null } | undefined;
    return row?.expires_at ?? null;
  }

  list(): TokenInfo[] {
    return (
      this.db.prepare("SELECT id, role, name, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at, id").all() as Array<{
        id: string;
        role: Role;
        name: string;
        created_at: number;
        expires_at: number | null;
        revoked_at: number | null;
      }>
    ).map((r) => ({ id: r.id, role: r.role, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at }));
  }

  /** Revokes a token by id; false when there is no such live token. */
  revoke(id: string): boolean {
    return this.db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(this.clock.now(), id).changes === 1;
  }

  /** Whether any live owner token exists (first run creates one). */
  hasOwner(): boolean {
    return (this.db.prepare("SELECT 1 FROM tokens WHERE role = 'owner' AND revoked_at IS NULL LIMIT 1").get() ?? null) !== null;
  }
}
