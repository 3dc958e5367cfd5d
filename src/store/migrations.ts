// Numbered schema migrations. Append only: never edit a migration that has shipped, add the next.
// Each runs in one transaction with the row that records it, so a crash leaves either all of it
// or none.

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Rebuilds a table others reference (SQLite cannot drop a CHECK in place): foreign keys are
   * switched off around it, as SQLite's own procedure says, and checked before it commits.
   */
  rebuildsTables?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, steps, approvals, notes',
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        runbook TEXT NOT NULL,
        runbook_file TEXT NOT NULL,
        runbook_snapshot TEXT NOT NULL,
        service TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('failover', 'failback', 'drill', 'tabletop', 'restore-test')),
        status TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'aborted')),
        started_by TEXT NOT NULL,
        started_at TEXT NOT NULL,
        impact_at TEXT NOT NULL,
        finished_at TEXT,
        rto_seconds REAL,
        rpo_exposure_seconds REAL,
        current_step INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT UNIQUE,
        CHECK (impact_at <= started_at)
      );
      CREATE INDEX runs_by_start ON runs (started_at DESC);
      CREATE INDEX runs_by_service ON runs (service, status);

      CREATE TABLE step_events (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (id),
        step_index INTEGER NOT NULL,
        event TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}',
        idempotency_key TEXT UNIQUE
      );
      CREATE INDEX step_events_by_run ON step_events (run_id, id);

      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (id),
        step_index INTEGER NOT NULL,
        gate TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        required INTEGER NOT NULL CHECK (required >= 1),
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        decided_at TEXT,
        reason TEXT
      );
      CREATE INDEX approvals_by_run ON approvals (run_id, step_index);

      CREATE TABLE approval_votes (
        approval_id TEXT NOT NULL REFERENCES approvals (id),
        approver TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
        at TEXT NOT NULL,
        PRIMARY KEY (approval_id, approver)
      );

      CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (id),
        step_index INTEGER,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'hash-chained audit log',
    sql: `
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      -- The head remembers the newest event (written in the same transaction as the events), so
      -- cutting events off the end of the log is detected too.
      CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END;
    `,
  },
  {
    version: 3,
    name: 'check results and schedule leases',
    sql: `
      CREATE TABLE check_results (
        id INTEGER PRIMARY KEY,
        check_name TEXT NOT NULL,
        service TEXT,
        ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
        summary TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL
      );
      CREATE INDEX check_results_latest ON check_results (check_name, service, at DESC);

      CREATE TABLE schedule_leases (
        schedule TEXT NOT NULL,
        slot TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (schedule, slot)
      );
    `,
  },
  {
    version: 4,
    name: 'engine: step states, idempotency keys, run executor lease',
    sql: `
      CREATE TABLE run_steps (
        run_id TEXT NOT NULL REFERENCES runs (id),
        step_index INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'executing', 'done', 'skipped')),
        waiting_on TEXT CHECK (waiting_on IN ('operator', 'approval', 'rpo-gate', 'failure')),
        started_at TEXT,
        finished_at TEXT,
        actor TEXT,
        summary TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, step_index)
      );

      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        run_id TEXT,
        result TEXT NOT NULL,
        at TEXT NOT NULL
      );

      ALTER TABLE runs ADD COLUMN outcome TEXT;
      ALTER TABLE runs ADD COLUMN executor TEXT;
      ALTER TABLE runs ADD COLUMN executor_seen TEXT;
      ALTER TABLE runs ADD COLUMN executor_poked INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 5,
    name: 'slack threads: where each run and its messages live',
    sql: `
      CREATE TABLE slack_messages (
        run_id TEXT NOT NULL REFERENCES runs (id),
        ref TEXT NOT NULL,
        channel TEXT NOT NULL,
        ts TEXT NOT NULL,
        PRIMARY KEY (run_id, ref)
      );
    `,
  },
  {
    version: 6,
    name: 'schedule: alert state per check and service, last slot per schedule',
    sql: `
      CREATE TABLE check_alerts (
        check_name TEXT NOT NULL,
        service TEXT NOT NULL,
        failing INTEGER NOT NULL CHECK (failing IN (0, 1)),
        summary TEXT NOT NULL,
        posted_at TEXT NOT NULL,
        PRIMARY KEY (check_name, service)
      );
      CREATE TABLE schedule_slots (
        schedule TEXT PRIMARY KEY,
        last_slot TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'fencing: switchover runs, gate waits, honest RPO exposure, protection episodes',
    rebuildsTables: true,
    sql: `
      -- Run kinds and step waits are checked by the code now: a new kind (switchover) or wait
      -- (fence-gate) must not need a table rebuild again.
      CREATE TABLE runs_new (
        id TEXT PRIMARY KEY,
        runbook TEXT NOT NULL,
        runbook_file TEXT NOT NULL,
        runbook_snapshot TEXT NOT NULL,
        service TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'aborted')),
        started_by TEXT NOT NULL,
        started_at TEXT NOT NULL,
        impact_at TEXT NOT NULL,
        finished_at TEXT,
        rto_seconds REAL,
        rpo_exposure_seconds REAL,
        current_step INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT UNIQUE,
        outcome TEXT,
        executor TEXT,
        executor_seen TEXT,
        executor_poked INTEGER NOT NULL DEFAULT 0,
        promote TEXT NOT NULL DEFAULT 'replica' CHECK (promote IN ('replica', 'primary')),
        rpo_exposure_bytes INTEGER,
        rpo_exposure_bound TEXT CHECK (rpo_exposure_bound IN ('exact', 'lower-bound')),
        rpo_exposure_detail TEXT,
        CHECK (impact_at <= started_at)
      );
      INSERT INTO runs_new (id, runbook, runbook_file, runbook_snapshot, service, kind, status,
                            started_by, started_at, impact_at, finished_at, rto_seconds,
                            rpo_exposure_seconds, current_step, idempotency_key, outcome, executor,
                            executor_seen, executor_poked, promote)
        SELECT id, runbook, runbook_file, runbook_snapshot, service, kind, status, started_by,
               started_at, impact_at, finished_at, rto_seconds, rpo_exposure_seconds, current_step,
               idempotency_key, outcome, executor, executor_seen, executor_poked,
               CASE kind WHEN 'failback' THEN 'primary' ELSE 'replica' END
        FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_new RENAME TO runs;
      CREATE INDEX runs_by_start ON runs (started_at DESC);
      CREATE INDEX runs_by_service ON runs (service, status);

      CREATE TABLE run_steps_new (
        run_id TEXT NOT NULL REFERENCES runs (id),
        step_index INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'executing', 'done', 'skipped')),
        waiting_on TEXT,
        started_at TEXT,
        finished_at TEXT,
        actor TEXT,
        summary TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, step_index)
      );
      INSERT INTO run_steps_new SELECT * FROM run_steps;
      DROP TABLE run_steps;
      ALTER TABLE run_steps_new RENAME TO run_steps;

      -- Whether a replica follows each service's writer: one row per episode (protected,
      -- unprotected, two primaries, no writer), the open one with ended_at NULL.
      CREATE TABLE protection_episodes (
        id INTEGER PRIMARY KEY,
        service TEXT NOT NULL,
        state TEXT NOT NULL,
        writer TEXT,
        detail TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        run_id TEXT,
        checked_at TEXT NOT NULL
      );
      CREATE INDEX protection_by_service ON protection_episodes (service, id DESC);
      CREATE INDEX protection_by_run ON protection_episodes (run_id);
    `,
  },
  {
    version: 8,
    name: 'authorization: approvals bound to a plan and an attempt, how each decision was made, runs that change infrastructure',
    sql: `
      ALTER TABLE approvals ADD COLUMN plan_hash TEXT;
      ALTER TABLE approvals ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE approval_votes ADD COLUMN via TEXT;
      ALTER TABLE runs ADD COLUMN started_via TEXT;
      ALTER TABLE runs ADD COLUMN mutates INTEGER NOT NULL DEFAULT 0 CHECK (mutates IN (0, 1));
      -- The head of the audit log moves forward only, and is never deleted.
      CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN
        SELECT RAISE(ABORT, 'audit_head is append-only');
      END;
      CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
        WHEN NEW.seq <= OLD.seq BEGIN
        SELECT RAISE(ABORT, 'audit_head only moves forward');
      END;
    `,
  },
  {
    version: 9,
    name: 'steps can end as aborted: the step a run was on when it was aborted',
    rebuildsTables: true,
    sql: `
      CREATE TABLE run_steps_new (
        run_id TEXT NOT NULL REFERENCES runs (id),
        step_index INTEGER NOT NULL,
        state TEXT NOT NULL
          CHECK (state IN ('pending', 'active', 'executing', 'done', 'skipped', 'aborted')),
        waiting_on TEXT,
        started_at TEXT,
        finished_at TEXT,
        actor TEXT,
        summary TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, step_index)
      );
      INSERT INTO run_steps_new SELECT * FROM run_steps;
      DROP TABLE run_steps;
      ALTER TABLE run_steps_new RENAME TO run_steps;
    `,
  },
  {
    version: 10,
    name: "the run walker's claim carries a fencing epoch, raised at every new holder",
    sql: `ALTER TABLE runs ADD COLUMN executor_epoch INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 11,
    name: 'instances: each serving lifeboat process and when it was last seen',
    sql: `CREATE TABLE instances (
      id TEXT PRIMARY KEY,
      version TEXT NOT NULL,
      started_at TEXT NOT NULL,
      last_seen TEXT NOT NULL
    );`,
  },
  {
    version: 12,
    name: 'an index of the runs in flight: status and run starts read it, not every run',
    sql: `CREATE INDEX runs_in_flight ON runs (started_at) WHERE status IN ('running', 'waiting');`,
  },
  {
    version: 13,
    name: 'audit checkpoint: how far a whole-chain verify got, so start-up verifies only what is new',
    sql: `
      CREATE TABLE audit_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        verified_at TEXT NOT NULL
      );
      CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint BEGIN
        SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
      END;
      CREATE TRIGGER audit_checkpoint_forward_only BEFORE UPDATE ON audit_checkpoint
        WHEN NEW.seq < OLD.seq BEGIN
        SELECT RAISE(ABORT, 'audit_checkpoint only moves forward');
      END;
    `,
  },
  {
    version: 14,
    name: "the audit log by subject: a step's approving votes are read from it without a scan",
    sql: `CREATE INDEX audit_log_by_subject ON audit_log (subject, action);`,
  },
  {
    version: 15,
    name: 'runbook snapshots stored once per content, not once per run',
    // sha256_hex is registered on every connection (db.ts): the hash of the snapshot's JSON text.
    sql: `
      CREATE TABLE runbook_snapshots (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
      );
      CREATE TRIGGER runbook_snapshots_no_update BEFORE UPDATE ON runbook_snapshots BEGIN
        SELECT RAISE(ABORT, 'runbook_snapshots is append-only');
      END;
      CREATE TRIGGER runbook_snapshots_no_delete BEFORE DELETE ON runbook_snapshots BEGIN
        SELECT RAISE(ABORT, 'runbook_snapshots is append-only');
      END;
      INSERT OR IGNORE INTO runbook_snapshots (hash, body)
        SELECT sha256_hex(runbook_snapshot), runbook_snapshot FROM runs ORDER BY rowid;
      ALTER TABLE runs ADD COLUMN runbook_hash TEXT REFERENCES runbook_snapshots (hash);
      UPDATE runs SET runbook_hash = sha256_hex(runbook_snapshot);
      ALTER TABLE runs DROP COLUMN runbook_snapshot;
    `,
  },
  {
    version: 16,
    name: "status without a scan: each kind's last run of a service, each DR test's, each check's newest result",
    sql: `
      CREATE INDEX runs_last_by_kind ON runs (service, kind, finished_at);
      CREATE INDEX runs_by_runbook ON runs (runbook, finished_at);
      CREATE INDEX check_results_newest ON check_results (check_name, service, id);
    `,
  },
  {
    version: 17,
    name: 'schedules: when each last succeeded (metrics: a job that keeps failing shows)',
    sql: `ALTER TABLE schedule_slots ADD COLUMN last_success_at TEXT;`,
  },
  {
    version: 18,
    name: "only approving votes are indexed by subject: every other event's append writes one b-tree fewer",
    // hasAuditedVotes is the one reader of migration 14's index, and it asks only for
    // 'approval.granted'; a partial index serves it and stays as small as the votes.
    sql: `
      DROP INDEX audit_log_by_subject;
      CREATE INDEX audit_log_votes ON audit_log (subject) WHERE action = 'approval.granted';
    `,
  },
];
