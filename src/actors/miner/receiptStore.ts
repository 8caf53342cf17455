import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Receipt, type ExecutorClass, type Receipt as ReceiptMessage } from '../../protocol';
import { systemClock, type Clock } from '../../util/clock';
import { RECEIPT_PAGE_SECONDS } from './defaults';
import { ReceiptStoreError } from './errors';
import { pageAt } from './receiptPages';

/** Options of {@link ReceiptStore.open}. */
export interface ReceiptStoreOptions {
  /** Directory of the pages (`<page>.jsonl`) and the index (`index.sqlite`); created if missing. */
  readonly dir: string;
  /** @default RECEIPT_PAGE_SECONDS */
  readonly pageSeconds?: number;
  /** Decides the page a receipt is appended to (the time of storing, as upstream). */
  readonly clock?: Clock;
}

/** Which JobStarted receipts may excuse a busy decline (upstream's queryset in `handle_initial_job_request`). */
export interface ExcuseQuery {
  readonly executorClass: ExecutorClass;
  /** The declined request's receipt timestamp: an excuse must have started by then and still be valid then. */
  readonly atMs: number;
  /** The declined job itself never excuses. */
  readonly excludeJobUuid: string;
  readonly limit: number;
}

interface IndexRow {
  readonly page: number;
  readonly offset: number;
  readonly length: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS receipts (
  job_uuid TEXT NOT NULL,
  receipt_type TEXT NOT NULL,
  executor_class TEXT,
  validator_hotkey TEXT NOT NULL,
  miner_hotkey TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  ttl_s INTEGER,
  is_organic INTEGER,
  page INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  PRIMARY KEY (job_uuid, receipt_type)
);
CREATE INDEX IF NOT EXISTS receipts_by_class_time ON receipts (receipt_type, executor_class, timestamp_ms);
`;

/**
 * The miner's receipts on disk: append-only JSONL pages (`<dir>/<page>.jsonl`, one `Receipt` per line, exactly the
 * bytes upstream's `model_dump_json()` writes) plus a SQLite index (better-sqlite3) that finds excuse receipts without
 * reading pages. Both survive a restart.
 *
 * Synchronous and meant for ONE writer (the receipt store actor): every call finishes before it returns, so the
 * order of calls is the order on disk. A receipt is appended to its page first and indexed second; a crash in
 * between leaves a served but unindexed line (it then excuses nothing), never an index entry without its line. A
 * receipt already stored (same job uuid and type) is not appended again.
 *
 * Readers (the HTTP route) may read pages concurrently: {@link servableSize} says how many bytes of a page are
 * complete lines.
 *
 * @example
 * ```ts
 * const store = ReceiptStore.open({ dir: 'data/receipts' });
 * store.append(receipt);                       // 'stored' | 'duplicate'
 * store.excuses({ executorClass, atMs, excludeJobUuid, limit: 1000 });
 * store.close();
 * ```
 */
export class ReceiptStore {
  readonly dir: string;
  private readonly db: Database.Database;
  private readonly pageSeconds: number;
  private readonly clock: Clock;
  private readonly insert: Database.Statement;
  private readonly exists: Database.Statement;
  private readonly excuseRows: Database.Statement;
  private current: { page: number; fd: number; size: number } | undefined;
  private closed = false;

  private constructor(options: ReceiptStoreOptions) {
    this.dir = options.dir;
    this.pageSeconds = options.pageSeconds ?? RECEIPT_PAGE_SECONDS;
    this.clock = options.clock ?? systemClock;
    try {
      mkdirSync(this.dir, { recursive: true });
      this.db = new Database(join(this.dir, 'index.sqlite'));
      // WAL: readers never block the writer; NORMAL: an OS crash may lose the last transactions, a process crash not.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
    } catch (error) {
      throw new ReceiptStoreError(`cannot open the receipt index in ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
    this.insert = this.db.prepare(
      `INSERT INTO receipts (job_uuid, receipt_type, executor_class, validator_hotkey, miner_hotkey, timestamp_ms, ttl_s,
         is_organic, page, offset, length)
       VALUES (@job_uuid, @receipt_type, @executor_class, @validator_hotkey, @miner_hotkey, @timestamp_ms, @ttl_s,
         @is_organic, @page, @offset, @length)`,
    );
    this.exists = this.db.prepare('SELECT 1 FROM receipts WHERE job_uuid = ? AND receipt_type = ?');
    this.excuseRows = this.db.prepare(
      `SELECT page, offset, length FROM receipts
       WHERE receipt_type = 'JobStartedReceipt' AND is_organic = 1 AND executor_class = @executor_class
         AND timestamp_ms <= @at_ms AND timestamp_ms + ttl_s * 1000 >= @at_ms AND job_uuid != @exclude
       ORDER BY timestamp_ms LIMIT @limit`,
    );
  }

  /** Opens (creating if needed) the store in `options.dir`. Throws {@link ReceiptStoreError}. */
  static open(options: ReceiptStoreOptions): ReceiptStore {
    return new ReceiptStore(options);
  }

  /** Path of a page file (it may not exist). */
  pagePath(page: number): string {
    return join(this.dir, `${page}.jsonl`);
  }

  /**
   * Appends a complete (countersigned) receipt to the current page and indexes it. Returns `duplicate` without
   * writing when a receipt of the same job and type is already stored. Throws {@link ReceiptStoreError} when the disk
   * refuses.
   */
  append(receipt: ReceiptMessage): 'stored' | 'duplicate' {
    if (this.closed) throw new ReceiptStoreError('the receipt store is closed');
    const payload = receipt.payload;
    if (this.exists.get(payload.job_uuid, payload.receipt_type) !== undefined) return 'duplicate';
    const line = `${Receipt.toJson(receipt)}\n`;
    const bytes = Buffer.from(line, 'utf8');
    const page = this.pageFor(pageAt(this.clock.nowMs(), this.pageSeconds));
    const offset = page.size;
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(page.fd, bytes, written, bytes.length - written);
    } catch (error) {
      throw new ReceiptStoreError(`cannot append to page ${page.page}: ${(error as Error).message}`, { cause: error });
    }
    page.size += bytes.length;
    const started = payload.receipt_type === 'JobStartedReceipt' ? payload : undefined;
    this.insert.run({
      job_uuid: payload.job_uuid,
      receipt_type: payload.receipt_type,
      executor_class: started?.executor_class ?? null,
      validator_hotkey: payload.validator_hotkey,
      miner_hotkey: payload.miner_hotkey,
      timestamp_ms: Date.parse(payload.timestamp),
      ttl_s: started?.ttl ?? (payload.receipt_type === 'JobAcceptedReceipt' ? payload.ttl : null),
      is_organic: started === undefined ? null : started.is_organic ? 1 : 0,
      page: page.page,
      offset,
      length: bytes.length,
    });
    return 'stored';
  }

  /**
   * Stored JobStarted receipts that excuse a busy decline: organic, same class, other job, started by `atMs` and
   * still valid at `atMs` (timestamp + ttl). Read back from the pages exactly as stored (never re-verified).
   */
  excuses(query: ExcuseQuery): ReceiptMessage[] {
    const rows = this.excuseRows.all({
      executor_class: query.executorClass,
      at_ms: query.atMs,
      exclude: query.excludeJobUuid,
      limit: query.limit,
    }) as IndexRow[];
    const receipts: ReceiptMessage[] = [];
    for (const row of rows) {
      const receipt = this.readLine(row);
      if (receipt !== undefined) receipts.push(receipt);
    }
    return receipts;
  }

  /** How many receipts are indexed. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM receipts').get() as { n: number }).n;
  }

  /**
   * Bytes of a page that hold complete lines: the written size for the page being appended to, the file size for
   * the others; undefined when the page does not exist.
   */
  servableSize(page: number): number | undefined {
    if (this.current !== undefined && this.current.page === page) return this.current.size;
    try {
      return statSync(this.pagePath(page)).size;
    } catch {
      return undefined;
    }
  }

  /** Closes the page file and the index. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.current !== undefined) closeSync(this.current.fd);
    this.current = undefined;
    this.db.close();
  }

  private pageFor(page: number): { page: number; fd: number; size: number } {
    if (this.current !== undefined && this.current.page === page) return this.current;
    if (this.current !== undefined) closeSync(this.current.fd);
    this.current = undefined;
    try {
      const fd = openSync(this.pagePath(page), 'a');
      this.current = { page, fd, size: fstatSync(fd).size };
    } catch (error) {
      throw new ReceiptStoreError(`cannot open page ${page}: ${(error as Error).message}`, { cause: error });
    }
    return this.current;
  }

  private readLine(row: IndexRow): ReceiptMessage | undefined {
    let fd: number;
    try {
      fd = openSync(this.pagePath(row.page), 'r');
    } catch {
      return undefined;
    }
    try {
      const buffer = Buffer.alloc(row.length);
      const read = readSync(fd, buffer, 0, row.length, row.offset);
      const parsed = Receipt.validate(JSON.parse(buffer.subarray(0, read).toString('utf8')));
      return parsed.ok ? parsed.value : undefined;
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }
}
