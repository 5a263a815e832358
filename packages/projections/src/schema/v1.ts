/**
 * Schema 1. Times are epoch milliseconds from event payloads (`*_at`); `*_seq` columns keep the
 * log order where a queue needs it. Every table has a primary key, so a canonical dump is ordered.
 *
 * Projectors find rows by primary key only: secondary indexes serve queries, and a rebuild drops
 * them while it loads and creates them once at the end. Triggers keep derived counters (contention,
 * message counts) in the same statement as the rows they derive from.
 */
export const V1 = `
CREATE TABLE projection_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  projectors TEXT NOT NULL
);

CREATE TABLE timeline (
  seq INTEGER PRIMARY KEY,
  ts TEXT NOT NULL,
  type TEXT NOT NULL,
  entity TEXT NOT NULL,
  agent TEXT
);
CREATE INDEX timeline_by_type ON timeline (type, seq);
CREATE INDEX timeline_by_entity ON timeline (entity, seq);
CREATE INDEX timeline_by_agent ON timeline (agent, seq);
CREATE INDEX timeline_by_agent_type ON timeline (agent, type, seq);

CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  idle_timeout_ms INTEGER NOT NULL,
  hibernate_after_ms INTEGER NOT NULL,
  lifetime_ms INTEGER NOT NULL,
  max_lifetime_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  max_expires_at INTEGER,
  expires_at INTEGER,
  last_activity_at INTEGER NOT NULL,
  hibernated_at INTEGER,
  snapshot_ref TEXT,
  snapshot_seq INTEGER,
  error TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  vendor TEXT NOT NULL,
  model TEXT NOT NULL,
  focus_prompt TEXT NOT NULL,
  state TEXT NOT NULL,
  activity TEXT,
  runner_connected INTEGER NOT NULL DEFAULT 0,
  runner_generation INTEGER,
  prompt_id TEXT,
  error TEXT,
  registered_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE agent_stats (
  agent TEXT PRIMARY KEY,
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  cost REAL NOT NULL DEFAULT 0,
  prompts_completed INTEGER NOT NULL DEFAULT 0,
  prompts_failed INTEGER NOT NULL DEFAULT 0,
  prompts_cancelled INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER NOT NULL DEFAULT 0,
  latency_n INTEGER NOT NULL DEFAULT 0,
  queue_wait_ms INTEGER NOT NULL DEFAULT 0,
  queue_wait_n INTEGER NOT NULL DEFAULT 0,
  busy_since INTEGER,
  active_ms INTEGER NOT NULL DEFAULT 0,
  messages INTEGER NOT NULL DEFAULT 0,
  lock_wait_ms INTEGER NOT NULL DEFAULT 0,
  lock_waits INTEGER NOT NULL DEFAULT 0,
  tasks_completed INTEGER NOT NULL DEFAULT 0,
  tasks_failed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE agent_metrics (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  agent TEXT NOT NULL,
  outcome TEXT NOT NULL,
  queue_wait_ms INTEGER,
  latency_ms INTEGER,
  attempts INTEGER NOT NULL,
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost REAL,
  finished_at INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (kind, agent, id)
);
CREATE INDEX agent_metrics_by_agent ON agent_metrics (agent, seq);

CREATE TABLE locks (
  path TEXT PRIMARY KEY,
  token INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE lock_holders (
  path TEXT NOT NULL,
  agent TEXT NOT NULL,
  mode TEXT NOT NULL,
  token INTEGER NOT NULL,
  since INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (path, agent)
) WITHOUT ROWID;

CREATE TABLE lock_waiters (
  path TEXT NOT NULL,
  agent TEXT NOT NULL,
  mode TEXT NOT NULL,
  lease_ms INTEGER NOT NULL,
  since INTEGER NOT NULL,
  queued_seq INTEGER NOT NULL,
  ended_at INTEGER,
  PRIMARY KEY (path, agent)
) WITHOUT ROWID;

CREATE TABLE lock_blockers (
  path TEXT NOT NULL,
  waiter TEXT NOT NULL,
  blocker TEXT NOT NULL,
  PRIMARY KEY (path, waiter, blocker)
) WITHOUT ROWID;

CREATE TABLE lock_contention (
  waiter TEXT NOT NULL,
  blocker TEXT NOT NULL,
  waits INTEGER NOT NULL,
  wait_ms INTEGER NOT NULL,
  max_wait_ms INTEGER NOT NULL,
  PRIMARY KEY (waiter, blocker)
) WITHOUT ROWID;

-- A wait ends when its projector sets ended_at: the wait is folded into the contention totals of
-- (waiter, blocker) and the waiter's lock-wait time, and leaves the queue.
CREATE TRIGGER lock_wait_ended AFTER UPDATE OF ended_at ON lock_waiters BEGIN
  INSERT INTO lock_contention (waiter, blocker, waits, wait_ms, max_wait_ms)
    SELECT waiter, blocker, 1, NEW.ended_at - NEW.since, NEW.ended_at - NEW.since FROM lock_blockers
    WHERE path = NEW.path AND waiter = NEW.agent
  ON CONFLICT (waiter, blocker) DO UPDATE SET
    waits = waits + 1, wait_ms = wait_ms + excluded.wait_ms, max_wait_ms = max(max_wait_ms, excluded.max_wait_ms);
  DELETE FROM lock_blockers WHERE path = NEW.path AND waiter = NEW.agent;
  INSERT INTO agent_stats (agent, lock_wait_ms, lock_waits) VALUES (NEW.agent, NEW.ended_at - NEW.since, 1)
  ON CONFLICT (agent) DO UPDATE SET lock_wait_ms = lock_wait_ms + excluded.lock_wait_ms, lock_waits = lock_waits + 1;
  DELETE FROM lock_waiters WHERE path = NEW.path AND agent = NEW.agent;
END;

CREATE TABLE prompts (
  agent TEXT NOT NULL,
  id TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  client_request_id TEXT,
  enqueued_at INTEGER NOT NULL,
  enqueued_seq INTEGER NOT NULL,
  first_started_at INTEGER,
  started_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  generation INTEGER,
  requeues INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER,
  result TEXT,
  error TEXT,
  cancel_reason TEXT,
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost REAL,
  PRIMARY KEY (agent, id)
);
CREATE INDEX prompts_queued ON prompts (agent, priority DESC, enqueued_seq) WHERE status = 'queued';
CREATE INDEX prompts_processing ON prompts (agent) WHERE status = 'processing';

CREATE TABLE messages (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  agent TEXT NOT NULL,
  author TEXT NOT NULL,
  channel TEXT,
  ref TEXT,
  body TEXT NOT NULL,
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost REAL
);
CREATE INDEX messages_by_agent ON messages (agent, seq);
CREATE INDEX messages_by_channel ON messages (channel, seq) WHERE channel IS NOT NULL;

CREATE TRIGGER message_counted AFTER INSERT ON messages BEGIN
  INSERT INTO agent_stats (agent, messages) VALUES (NEW.agent, 1) ON CONFLICT (agent) DO UPDATE SET messages = messages + 1;
END;

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  priority INTEGER NOT NULL,
  assignee TEXT,
  data TEXT,
  created_by TEXT NOT NULL,
  status TEXT NOT NULL,
  claimed_by TEXT,
  claims INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  claimed_at INTEGER,
  finished_at INTEGER,
  result TEXT,
  error TEXT,
  enqueued_seq INTEGER NOT NULL
);
CREATE INDEX tasks_open ON tasks (priority DESC, enqueued_seq) WHERE status IN ('pending', 'claimed');

CREATE TABLE shared_context (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mime TEXT,
  created_at INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
`;
