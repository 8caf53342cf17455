import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { signatureFromJson, signatureJson, type Signature } from '../../crypto';
import { JobStatusMetadata, type JobStatus } from '../../protocol';
import { parseJson } from '../../protocol/json';
import { CreateJobBody } from '../../sdk/facilitatorApi';
import { systemClock, type Clock } from '../../util/clock';
import { JobStoreError } from './errors';

/** One row of a job's status history. */
export interface StatusRecord {
  readonly status: JobStatus;
  readonly metadata: JobStatusMetadata | null;
  readonly createdAtMs: number;
}

/** A job as the facilitator keeps it: who asked, which validator runs it, the validated body and its signature. */
export interface StoredJob {
  readonly uuid: string;
  /** Hotkey of the REST user who created it (its JWT subject): only they see it. */
  readonly owner: string;
  readonly validator: string;
  readonly body: CreateJobBody;
  readonly signature: Signature;
  readonly createdAtMs: number;
  readonly lastUpdateMs: number;
  /** Oldest first. */
  readonly history: readonly StatusRecord[];
}

/** What {@link JobStore.appendStatus} did. */
export type AppendOutcome =
  | { readonly kind: 'stored'; readonly record: StatusRecord; readonly validator: string }
  /** No such job (`job.not_found`). */
  | { readonly kind: 'not_found' }
  /** The job already has this status (`job.integrity_error`). */
  | { readonly kind: 'duplicate' };

/** Filter and page of {@link JobStore.list}. */
export interface JobQuery {
  readonly owner: string;
  readonly tag?: string;
  readonly uuid?: string;
  readonly offset: number;
  readonly limit: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  validator TEXT NOT NULL,
  tag TEXT NOT NULL,
  body_json TEXT NOT NULL,
  signature_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  last_update_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, seq);
CREATE INDEX IF NOT EXISTS jobs_by_validator ON jobs (validator, created_at_ms);
CREATE TABLE IF NOT EXISTS job_statuses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_uuid TEXT NOT NULL REFERENCES jobs (uuid) ON DELETE CASCADE,
  status TEXT NOT NULL,
  metadata_json TEXT,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (job_uuid, status)
);
`;

interface JobRow {
  readonly uuid: string;
  readonly owner: string;
  readonly validator: string;
  readonly body_json: string;
  readonly signature_json: string;
  readonly created_at_ms: number;
  readonly last_update_ms: number;
}

interface StatusRow {
  readonly status: string;
  readonly metadata_json: string | null;
  readonly created_at_ms: number;
}

function parsed(text: string, what: string): unknown {
  const r = parseJson(text);
  if (!r.ok) throw new JobStoreError(`corrupt ${what} in the job store: ${r.error}`);
  return r.value;
}

/**
 * The facilitator's jobs on disk (SQLite through better-sqlite3, WAL): a `jobs` table and an append-only
 * `job_statuses` history with one row per (job, status), so a repeated status is refused like upstream's UNIQUE
 * constraint (`job.integrity_error`). A job and its `sent` row are written in one transaction BEFORE it is
 * dispatched, so a validator's `received` can never find it missing. Everything survives a restart.
 *
 * Synchronous: every call finishes before it returns, and the event loop is the only writer.
 *
 * @example
 * ```ts
 * const store = JobStore.open({ path: 'data/facilitator.sqlite' });
 * store.createJob({ uuid, owner, validator, body, signature });      // job + `sent`
 * store.appendStatus(uuid, 'received', null);                        // { kind: 'stored', ... }
 * store.appendStatus(uuid, 'received', null);                        // { kind: 'duplicate' }
 * store.close();
 * ```
 */
export class JobStore {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly statements: {
    readonly insertJob: Database.Statement;
    readonly insertStatus: Database.Statement;
    readonly touchJob: Database.Statement;
    readonly jobByUuid: Database.Statement;
    readonly historyOf: Database.Statement;
    readonly hasStatus: Database.Statement;
    readonly undelivered: Database.Statement;
    readonly lastJobOf: Database.Statement;
  };
  private readonly createTx: (job: Omit<StoredJob, 'history' | 'lastUpdateMs'>) => void;
  private readonly appendTx: (uuid: string, status: JobStatus, metadata: string | null, atMs: number) => AppendOutcome;

  private constructor(db: Database.Database, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.statements = {
      insertJob: db.prepare(
        `INSERT INTO jobs (uuid, owner, validator, tag, body_json, signature_json, created_at_ms, last_update_ms)
         VALUES (@uuid, @owner, @validator, @tag, @body_json, @signature_json, @created_at_ms, @created_at_ms)`,
      ),
      insertStatus: db.prepare(
        'INSERT OR IGNORE INTO job_statuses (job_uuid, status, metadata_json, created_at_ms) VALUES (?, ?, ?, ?)',
      ),
      touchJob: db.prepare('UPDATE jobs SET last_update_ms = ? WHERE uuid = ?'),
      jobByUuid: db.prepare('SELECT * FROM jobs WHERE uuid = ?'),
      historyOf: db.prepare('SELECT status, metadata_json, created_at_ms FROM job_statuses WHERE job_uuid = ? ORDER BY id'),
      hasStatus: db.prepare('SELECT 1 FROM job_statuses WHERE job_uuid = ? AND status = ?'),
      // "Not yet received": the validator never answered anything but the facilitator's own `sent`.
      undelivered: db.prepare(
        `SELECT * FROM jobs j WHERE j.validator = ? AND j.created_at_ms >= ?
           AND NOT EXISTS (SELECT 1 FROM job_statuses s WHERE s.job_uuid = j.uuid AND s.status <> 'sent')
         ORDER BY j.seq LIMIT ?`,
      ),
      lastJobOf: db.prepare('SELECT MAX(created_at_ms) AS last FROM jobs WHERE validator = ?'),
    };
    this.createTx = db.transaction((job: Omit<StoredJob, 'history' | 'lastUpdateMs'>) => {
      this.statements.insertJob.run({
        uuid: job.uuid,
        owner: job.owner,
        validator: job.validator,
        tag: job.body.tag,
        body_json: CreateJobBody.toJson(job.body),
        signature_json: signatureJson(job.signature),
        created_at_ms: job.createdAtMs,
      });
      this.statements.insertStatus.run(job.uuid, 'sent', null, job.createdAtMs);
    });
    this.appendTx = db.transaction((uuid: string, status: JobStatus, metadata: string | null, atMs: number): AppendOutcome => {
      const row = this.statements.jobByUuid.get(uuid) as JobRow | undefined;
      if (row === undefined) return { kind: 'not_found' };
      const result = this.statements.insertStatus.run(uuid, status, metadata, atMs);
      if (result.changes === 0) return { kind: 'duplicate' };
      this.statements.touchJob.run(atMs, uuid);
      return { kind: 'stored', record: { status, metadata: null, createdAtMs: atMs }, validator: row.validator };
    });
  }

  /** Opens (creating if needed) the database at `path`; its folder is created too. */
  static open(options: { readonly path: string; readonly clock?: Clock }): JobStore {
    let db: Database.Database;
    try {
      mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
    } catch (error) {
      throw new JobStoreError(`cannot open the job store at ${options.path}: ${(error as Error).message}`, { cause: error });
    }
    return new JobStore(db, options.clock ?? systemClock);
  }

  /**
   * Inserts a job and its `sent` status in one transaction (the caller dispatches only after this returns).
   * Throws {@link JobStoreError} if the uuid exists.
   */
  createJob(job: { uuid: string; owner: string; validator: string; body: CreateJobBody; signature: Signature }): StoredJob {
    const createdAtMs = this.clock.nowMs();
    try {
      this.createTx({ ...job, createdAtMs });
    } catch (error) {
      throw new JobStoreError(`cannot store job ${job.uuid}: ${(error as Error).message}`, { cause: error });
    }
    return { ...job, createdAtMs, lastUpdateMs: createdAtMs, history: [{ status: 'sent', metadata: null, createdAtMs }] };
  }

  /** Appends a status to a job's history (and bumps its `last_update`), unless the job is unknown or already has it. */
  appendStatus(uuid: string, status: JobStatus, metadata: JobStatusMetadata | null): AppendOutcome {
    const atMs = this.clock.nowMs();
    const outcome = this.appendTx(uuid, status, metadata === null ? null : JobStatusMetadata.toJson(metadata), atMs);
    return outcome.kind === 'stored' ? { ...outcome, record: { status, metadata, createdAtMs: atMs } } : outcome;
  }

  /** True when the job has this status. */
  hasStatus(uuid: string, status: JobStatus): boolean {
    return this.statements.hasStatus.get(uuid, status) !== undefined;
  }

  /** The job with its history, or undefined. */
  get(uuid: string): StoredJob | undefined {
    const row = this.statements.jobByUuid.get(uuid) as JobRow | undefined;
    return row === undefined ? undefined : this.hydrate(row);
  }

  /** A page of the owner's jobs, newest first, and how many match in all. */
  list(query: JobQuery): { count: number; jobs: StoredJob[] } {
    const where = ['owner = ?'];
    const params: unknown[] = [query.owner];
    if (query.tag !== undefined) {
      where.push('tag = ?');
      params.push(query.tag);
    }
    if (query.uuid !== undefined) {
      where.push('uuid = ?');
      params.push(query.uuid);
    }
    const clause = where.join(' AND ');
    const count = (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE ${clause}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`)
      .all(...params, query.limit, query.offset) as JobRow[];
    return { count, jobs: rows.map((row) => this.hydrate(row)) };
  }

  /** The validator's jobs that never got past `sent` (oldest first), created at or after `minCreatedAtMs`. */
  undelivered(validator: string, options: { readonly limit: number; readonly minCreatedAtMs: number }): StoredJob[] {
    const rows = this.statements.undelivered.all(validator, options.minCreatedAtMs, options.limit) as JobRow[];
    return rows.map((row) => this.hydrate(row));
  }

  /** When each validator last got a job (absent: never), for least-recently-used routing. */
  lastJobTimes(validators: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const validator of validators) {
      const last = (this.statements.lastJobOf.get(validator) as { last: number | null }).last;
      if (last !== null) out.set(validator, last);
    }
    return out;
  }

  /** Closes the database (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private hydrate(row: JobRow): StoredJob {
    const body = CreateJobBody.validate(parsed(row.body_json, 'job body'));
    if (!body.ok) throw new JobStoreError(`corrupt body of job ${row.uuid}: ${body.error.path} ${body.error.message}`);
    const history = (this.statements.historyOf.all(row.uuid) as StatusRow[]).map((s): StatusRecord => {
      let metadata: JobStatusMetadata | null = null;
      if (s.metadata_json !== null) {
        const m = JobStatusMetadata.validate(parsed(s.metadata_json, 'status metadata'));
        if (!m.ok) throw new JobStoreError(`corrupt status metadata of job ${row.uuid}: ${m.error.message}`);
        metadata = m.value;
      }
      return { status: s.status as JobStatus, metadata, createdAtMs: s.created_at_ms };
    });
    return {
      uuid: row.uuid,
      owner: row.owner,
      validator: row.validator,
      body: body.value,
      signature: signatureFromJson(parsed(row.signature_json, 'job signature')),
      createdAtMs: row.created_at_ms,
      lastUpdateMs: row.last_update_ms,
      history,
    };
  }
}
