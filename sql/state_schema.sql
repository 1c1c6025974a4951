-- pgbaton's state on the target: schema "pgbaton" (never copied from the
-- source, never compared by verify, dropped by clean). Idempotent.
-- No password is ever stored here: connection strings are stored masked.
CREATE SCHEMA IF NOT EXISTS pgbaton;

-- One row per migration.
CREATE TABLE IF NOT EXISTS pgbaton.migration (
    name                 text PRIMARY KEY,
    phase                text NOT NULL,   -- copying, indexing, streaming, cutover, done, failed, stopped
    slot_name            text NOT NULL,
    source_masked        text,            -- connection strings, password masked
    target_masked        text,
    source_version       text,
    target_version       text,
    consistent_lsn       pg_lsn,          -- the slot's consistent point = the copy's snapshot
    applied_lsn          pg_lsn,          -- nextlsn of the last source commit applied on the target
    applied_source_ts    timestamptz,     -- that commit's timestamp (source clock)
    heartbeat_source_ts  timestamptz,     -- source clock carried by the last applied heartbeat
    changes_applied      bigint NOT NULL DEFAULT 0,
    txns_applied         bigint NOT NULL DEFAULT 0,
    alive_at             timestamptz,     -- last sign of life of `start` (target clock)
    started_at           timestamptz NOT NULL DEFAULT now(),
    copy_started_at      timestamptz,
    copy_done_at         timestamptz,
    indexes_done_at      timestamptz,
    streaming_at         timestamptz,
    cutover_started_at   timestamptz,
    frozen_at            timestamptz,
    fence_lsn            pg_lsn,
    fence_applied_at     timestamptz,
    done_at              timestamptz,
    write_unavailable_ms double precision,
    last_error           text,
    options              jsonb,           -- filters, jobs: never a secret
    hold_lsn             pg_lsn,          -- verify asks the applier to pause before this source LSN
    held_at              timestamptz      -- set by the applier once it holds there (docs/verify.md)
);

-- One row per table of the migration.
CREATE TABLE IF NOT EXISTS pgbaton.table_state (
    migration    text NOT NULL REFERENCES pgbaton.migration (name) ON DELETE CASCADE,
    schema_name  text NOT NULL,
    table_name   text NOT NULL,
    size_bytes   bigint,
    est_rows     bigint,
    rows_copied  bigint NOT NULL DEFAULT 0,
    bytes_copied bigint NOT NULL DEFAULT 0,
    state        text NOT NULL DEFAULT 'pending',  -- pending, copying, copied, indexed, failed
    started_at   timestamptz,
    copied_at    timestamptz,
    indexed_at   timestamptz,
    analyzed_at  timestamptz,  -- statistics gathered (src/analyze.c); NULL: still to do
    PRIMARY KEY (migration, schema_name, table_name)
);

-- Warnings and notable events met on the way (for report).
CREATE TABLE IF NOT EXISTS pgbaton.event (
    migration text NOT NULL REFERENCES pgbaton.migration (name) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    level     text NOT NULL,      -- info, warn, error
    message   text NOT NULL
);

-- The audit trail: every action pgbaton took on either server, with its
-- time, server and outcome (src/state_audit.c; listed by `report` and
-- `status --events`). No foreign key to migration: the record of what was
-- done outlives a migration row that `start --restart` replaces.
CREATE TABLE IF NOT EXISTS pgbaton.action (
    migration   text NOT NULL,
    at          timestamptz NOT NULL, -- on the clock of the machine that ran pgbaton
    server      text NOT NULL,    -- source, target
    action      text NOT NULL,    -- what was done: "slot created", "table copied", ...
    object      text,             -- what it was done to: a slot, a table, a database
    outcome     text NOT NULL,    -- ok, failed
    duration_ms double precision, -- NULL when not timed
    detail      text              -- rows, bytes, sessions ended, the error (redacted)
);
CREATE INDEX IF NOT EXISTS action_migration_at ON pgbaton.action (migration, at);

-- Lag over time (for status ETA and the report's chart).
CREATE TABLE IF NOT EXISTS pgbaton.lag_sample (
    migration   text NOT NULL REFERENCES pgbaton.migration (name) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    lag_bytes   bigint,
    lag_seconds double precision,
    apply_rate  double precision
);

-- User triggers and rules on the tables pgbaton writes, switched off on the
-- target while it copies and applies (src/triggers.c): what they did on the
-- source is already in the change stream. One row per trigger or rule, with
-- its mode as restored from the source; the mode is put back from this row
-- (at the cutover, by abort and by clean) in the transaction that deletes
-- it, so a crash at any moment leaves either the row or the source's mode.
-- No foreign key to migration: deleting a migration must not drop this.
CREATE TABLE IF NOT EXISTS pgbaton.paused_trigger (
    migration   text NOT NULL,
    kind        text NOT NULL,    -- trigger, rule
    schema_name text NOT NULL,
    table_name  text NOT NULL,
    object_name text NOT NULL,
    mode        text NOT NULL,    -- O origin (ENABLE), R replica, A always, D disabled
    depth       int NOT NULL,     -- partition depth: a parent is restored before its partitions
    PRIMARY KEY (migration, kind, schema_name, table_name, object_name)
);

-- Columns added by later versions (existing state is upgraded in place).
-- Cutover (src/cutover.c, src/freeze.c):
--   post_fence_changes: data changes the applier received after it applied the
--     fence (must stay 0; reset to 0 by each cutover attempt);
--   fence_applied_lsn: LSN of the fence message the applier applied (the
--     value pg_logical_emit_message returned = wal2json's "lsn" of the 'M');
--   freeze_database / freeze_prev_readonly: which source database pgbaton made
--     read-only and its database-level default_transaction_read_only before
--     (NULL: none, so unfreeze RESETs it); recorded before the freeze;
--   count_ms: time spent comparing row counts (part of write-unavailability).
--   plugin: the logical decoding plugin of the slot (wal2json, pgoutput);
--     NULL in rows from before it was recorded: wal2json.
--   publication: pgoutput's publication on the source (start creates it,
--     abort and clean drop it); NULL with wal2json.
--   hold_lsn / held_at: verify's hold (docs/verify.md);
--   slot_created_at: the slot and its snapshot exist (with consistent_lsn);
--   schema_done_at: the pre-data schema is restored on the target (the
--     report times the schema copy and the data copy from it);
--   table_state.analyzed_at: ANALYZE after the copy (src/analyze.c).
-- A column is added only when missing: ALTER TABLE takes an ACCESS EXCLUSIVE
-- lock even when IF NOT EXISTS finds the column, and every command runs this
-- file, so it would queue behind (and block) anyone using the table.
DO $pgbaton$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('migration', 'hold_lsn', 'pg_lsn'),
        ('migration', 'held_at', 'timestamptz'),
        ('migration', 'post_fence_changes', 'bigint NOT NULL DEFAULT 0'),
        ('migration', 'fence_applied_lsn', 'pg_lsn'),
        ('migration', 'freeze_database', 'text'),
        ('migration', 'freeze_prev_readonly', 'text'),
        ('migration', 'count_ms', 'double precision'),
        ('migration', 'plugin', 'text'),
        ('migration', 'publication', 'text'),
        ('migration', 'slot_created_at', 'timestamptz'),
        ('migration', 'schema_done_at', 'timestamptz'),
        ('table_state', 'analyzed_at', 'timestamptz')) AS v (tbl, col, def)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                       WHERE attrelid = pg_catalog.to_regclass('pgbaton.' || c.tbl)
                         AND attname = c.col AND NOT attisdropped) THEN
            EXECUTE pg_catalog.format('ALTER TABLE pgbaton.%I ADD COLUMN %I %s', c.tbl, c.col, c.def);
        END IF;
    END LOOP;
END
$pgbaton$;

