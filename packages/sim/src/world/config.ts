/** The cast and the knobs of every simulated workspace (small, so that agents contend). */
export const WORKSPACE = "ws_sim";
export const DIR = "/sim/ws_sim";
export const AGENTS = ["ada", "bob", "cy"] as const;
export const USERS = ["ann", "ben"] as const;
export const PATHS = ["src/app.ts", "src/db.ts", "docs/readme.md"] as const;

export const LEASE_MS = 20_000;
export const HEARTBEAT_TTL_MS = 30_000;
export const HEARTBEAT_EVERY_MS = 5_000;
/** Often enough that recovery starts from a snapshot in most seeds. */
export const SNAPSHOT_EVERY = 40;
/**
 * Lifecycle timers: idle after 2 min, hibernated 10 min later (users also hibernate and resume by
 * hand). Longer than the liveness bound on purpose: an automatic hibernation disconnects every
 * runner, which would requeue a stuck prompt and hide the very bug I21 is there to catch.
 */
export const WORKSPACE_CONFIG = { idleTimeoutMs: 2 * 60_000, hibernateAfterMs: 10 * 60_000, lifetimeMs: 2 * 3_600_000, maxLifetimeMs: 48 * 3_600_000 };
/** How long the liveness phase may take, in simulated time, before I21 fails. */
export const LIVENESS_BOUND_MS = 10 * 60_000;
/** A WAL checkpoint of the projection happens about this often (what survives F19). */
export const PROJECTION_CHECKPOINT_EVERY_MS = 30_000;
