/**
 * The validator's SQLite store (one file per data dir, WAL): the durable outbox of `V0JobStatusUpdate`s and the
 * jobs table.
 *
 * Why an outbox: upstream keeps status updates it could not send in memory and loses them when the process dies
 * (spec 5.2). Here `report()` commits the update to disk before it returns; the facilitator link sends rows oldest
 * first and deletes each once the facilitator answered it. A row is stored as the exact frame text the
 * validator→facilitator codec writes, so what is resent after a restart is byte-for-byte what was meant.
 *
 * Capacity policy: at most `capacityRows` unacknowledged rows. One more `report()` throws {@link OutboxFullError}
 * (counted in `horde_validator_outbox_refused_statuses_total`): a status is refused loudly, never dropped
 * silently, and the caller (the organic job actor) ends the job as it would on a disk failure.
 */
import Database from 'better-sqlite3';
import type { Meter } from '@opentelemetry/api';
import {
  JOB_STATUS_END_STATES,
  validatorToFacilitatorCodec,
  type JobStatus,
  type V0JobStatusUpdate,
  type V2JobRequest,
} from '../../protocol';
import { systemClock, type Clock } from '../../util/clock';
import { HordeError } from '../../util/errors';
import { DEFAULT_JOB_RETENTION_MS, DEFAULT_OUTBOX_CAPACITY_ROWS, JOB_PRUNE_EVERY_RECORDS } from './linkDefaults';
import { createOutboxMetrics, type OutboxMetrics } from './linkMetrics';
import type { StatusSink } from './types';

/** `report()` refused a status because the outbox already holds `capacityRows` unacknowledged rows. */
export class OutboxFullError extends HordeError {
  constructor(readonly capacityRows: number) {
    super('validator.outbox_full', `the status outbox is full (${capacityRows} unacknowledged rows): is the facilitator unreachable?`);
  }
}

/** SQLite failed to read or write the store (disk full, file removed, permissions). */
export class ValidatorStoreError extends HordeError {
  constructor(operation: string, options: { cause?: unknown }) {
    super('validator.store_failed', `validator store: ${operation} failed: ${String((options.cause as Error | undefined)?.message ?? options.cause)}`, options);
  }
}

/** A stored outbox frame no longer decodes (the file was edited by hand, or written by an incompatible version). */
export class OutboxCorruptRowError extends HordeError {
  constructor(id: number, detail: string) {
    super('validator.outbox_corrupt_row', `outbox row ${id} does not decode: ${detail}`);
  }
}

/** One unacknowledged outbox row as the link sends it: the exact frame text. */
export interface OutboxFrame {
  readonly id: number;
  readonly frame: string;
}

/**
 * The validator's store. `report` is the {@link StatusSink} the job actors write to.
 *
 * @example
 * ```ts
 * const store = openValidatorStore(join(dataDir, 'validator.sqlite3'));
 * if (store.recordJob(request)) store.report({ message_type: 'V0JobStatusUpdate', uuid: request.uuid, status: 'received', metadata: null });
 * for (const { id, update } of store.pending(32)) send(update); // then, on the facilitator's answer:
 * store.acknowledge(id);
 * store.close();
 * ```
 */
export interface ValidatorStore extends StatusSink {
  /**
   * Appends to the outbox (durable: committed before it returns) and upserts jobs(uuid, last_status, terminal).
   * Throws {@link OutboxFullError} when the outbox is full, {@link ValidatorStoreError} when the write fails, and
   * `SchemaEncodeError` for an update that does not fit the protocol.
   */
  report(update: V0JobStatusUpdate): void;
  /** Records a job taken from the facilitator (before 'received' is reported); false if the uuid is already known (a redelivery: ignore it). */
  recordJob(request: V2JobRequest): boolean;
  /** Jobs that have no terminal status yet (used at start-up to finish jobs a crashed process left behind). `sent` when nothing was reported. */
  unfinishedJobs(): Array<{ uuid: string; lastStatus: JobStatus }>;
  /** Outbox rows not yet acknowledged, oldest first (bounded: limit). */
  pending(limit: number): Array<{ id: number; update: V0JobStatusUpdate }>;
  /** Unacknowledged rows with `id > afterId`, oldest first, as the frame text to send (the link's read). */
  pendingFrames(afterId: number, limit: number): OutboxFrame[];
  /** Deletes an outbox row (idempotent). */
  acknowledge(id: number): void;
  pendingCount(): number;
  /** The last status reported for a job, if the job is known. */
  jobStatus(uuid: string): { lastStatus: JobStatus; terminal: boolean } | undefined;
  /** Path of the SQLite file. */
  readonly path: string;
  /** Closes the file (idempotent); pending rows stay for the next open. */
  close(): void;
}

export interface ValidatorStoreOptions {
  /** Wall clock for row timestamps and job retention. @default systemClock */
  readonly clock?: Clock;
  /** @default DEFAULT_OUTBOX_CAPACITY_ROWS */
  readonly capacityRows?: number;
  /** @default DEFAULT_JOB_RETENTION_MS */
  readonly jobRetentionMs?: number;
  /** @default hordeMeter() */
  readonly meter?: Meter;
  /** Instruments to report to, instead of creating them from `meter`. */
  readonly metrics?: OutboxMetrics;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_uuid TEXT NOT NULL,
  status TEXT NOT NULL,
  frame TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  uuid TEXT PRIMARY KEY,
  executor_class TEXT,
  received_at_ms INTEGER NOT NULL,
  last_status TEXT,
  terminal INTEGER NOT NULL DEFAULT 0,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (terminal, updated_at_ms);
`;

/**
 * Opens (creating if needed) the store at `path`. WAL with `synchronous = FULL`: a returned `report()` survives a
 * process crash and a power loss.
 *
 * @example
 * ```ts
 * const store = openValidatorStore('/var/lib/horde/validator.sqlite3', { clock: systemClock });
 * ```
 */
export function openValidatorStore(path: string, options: ValidatorStoreOptions = {}): ValidatorStore {
  const clock = options.clock ?? systemClock;
  const capacityRows = options.capacityRows ?? DEFAULT_OUTBOX_CAPACITY_ROWS;
  const retentionMs = options.jobRetentionMs ?? DEFAULT_JOB_RETENTION_MS;
  const metrics = options.metrics ?? createOutboxMetrics(options.meter);
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  } catch (cause) {
    throw new ValidatorStoreError(`open ${path}`, { cause });
  }

  const insertRow = db.prepare('INSERT INTO outbox (job_uuid, status, frame, created_at_ms) VALUES (?, ?, ?, ?)');
  const upsertJob = db.prepare(`
    INSERT INTO jobs (uuid, executor_class, received_at_ms, last_status, terminal, updated_at_ms) VALUES (?, NULL, ?, ?, ?, ?)
    ON CONFLICT (uuid) DO UPDATE SET last_status = excluded.last_status, terminal = MAX(terminal, excluded.terminal),
      updated_at_ms = excluded.updated_at_ms`);
  const insertJob = db.prepare(
    'INSERT OR IGNORE INTO jobs (uuid, executor_class, received_at_ms, last_status, terminal, updated_at_ms) VALUES (?, ?, ?, NULL, 0, ?)',
  );
  const selectUnfinished = db.prepare('SELECT uuid, last_status FROM jobs WHERE terminal = 0 ORDER BY received_at_ms, uuid');
  const selectJob = db.prepare('SELECT last_status, terminal FROM jobs WHERE uuid = ?');
  const selectPending = db.prepare('SELECT id, frame FROM outbox WHERE id > ? ORDER BY id LIMIT ?');
  const deleteRow = db.prepare('DELETE FROM outbox WHERE id = ?');
  const countRows = db.prepare('SELECT COUNT(*) AS n FROM outbox');
  const pruneJobs = db.prepare('DELETE FROM jobs WHERE terminal = 1 AND updated_at_ms < ?');

  const appendReport = db.transaction((update: V0JobStatusUpdate, frame: string, nowMs: number) => {
    insertRow.run(update.uuid, update.status, frame, nowMs);
    upsertJob.run(update.uuid, nowMs, update.status, JOB_STATUS_END_STATES.has(update.status) ? 1 : 0, nowMs);
  });

  let pending = (countRows.get() as { n: number }).n;
  metrics.pendingRows.add(pending);
  let recordsSincePrune = 0;
  let closed = false;
  const prune = (): void => {
    pruneJobs.run(clock.nowMs() - retentionMs);
    recordsSincePrune = 0;
  };
  prune();

  const guarded = <T>(operation: string, body: () => T): T => {
    if (closed) throw new ValidatorStoreError(operation, { cause: new Error('the store is closed') });
    try {
      return body();
    } catch (cause) {
      if (cause instanceof HordeError) throw cause;
      throw new ValidatorStoreError(operation, { cause });
    }
  };

  return {
    path,
    report(update) {
      // encode first: a malformed update is the caller's bug and must not take a row
      const frame = validatorToFacilitatorCodec.encode(update);
      guarded('report', () => {
        if (pending >= capacityRows) {
          metrics.refused.add(1);
          throw new OutboxFullError(capacityRows);
        }
        appendReport(update, frame, clock.nowMs());
        pending++;
        metrics.pendingRows.add(1);
        metrics.reported.add(1);
      });
    },
    recordJob(request) {
      return guarded('recordJob', () => {
        const nowMs = clock.nowMs();
        if (++recordsSincePrune >= JOB_PRUNE_EVERY_RECORDS) prune();
        return insertJob.run(request.uuid, request.executor_class, nowMs, nowMs).changes === 1;
      });
    },
    unfinishedJobs() {
      return guarded('unfinishedJobs', () =>
        (selectUnfinished.all() as Array<{ uuid: string; last_status: string | null }>).map((row) => ({
          uuid: row.uuid,
          lastStatus: (row.last_status ?? 'sent') as JobStatus,
        })),
      );
    },
    pending(limit) {
      return guarded('pending', () =>
        (selectPending.all(0, limit) as OutboxFrame[]).map(({ id, frame }) => {
          const decoded = validatorToFacilitatorCodec.decode(frame);
          if (!decoded.ok) throw new OutboxCorruptRowError(id, decoded.error.message);
          if (decoded.value.message_type !== 'V0JobStatusUpdate') throw new OutboxCorruptRowError(id, `a ${decoded.value.message_type}`);
          return { id, update: decoded.value };
        }),
      );
    },
    pendingFrames(afterId, limit) {
      return guarded('pendingFrames', () => selectPending.all(afterId, limit) as OutboxFrame[]);
    },
    acknowledge(id) {
      guarded('acknowledge', () => {
        if (deleteRow.run(id).changes === 1) {
          pending--;
          metrics.pendingRows.add(-1);
        }
      });
    },
    pendingCount() {
      return pending;
    },
    jobStatus(uuid) {
      return guarded('jobStatus', () => {
        const row = selectJob.get(uuid) as { last_status: string | null; terminal: number } | undefined;
        if (row === undefined) return undefined;
        return { lastStatus: (row.last_status ?? 'sent') as JobStatus, terminal: row.terminal === 1 };
      });
    },
    close() {
      if (closed) return;
      closed = true;
      metrics.pendingRows.add(-pending);
      db.close();
    },
  };
}
