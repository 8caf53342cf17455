/**
 * Defaults of the validator process (`startValidator`, `horde validator`): server, concurrency, shutdown. The
 * per-job timings (reservation, startup, leeway) live in `defaults.ts` next to the organic job actor; the link's and
 * the manifest fetcher's in their own modules.
 */

/** Address `horde validator` binds its HTTP server (/metrics, /healthz, /readyz). Local only by default. @default '127.0.0.1' */
export const VALIDATOR_DEFAULT_HOST = '127.0.0.1';

/** Port of the validator's HTTP server; 0 picks a free one. @default 8200 */
export const VALIDATOR_DEFAULT_PORT = 8_200;

/**
 * Organic jobs running at once. A job arriving beyond it is refused at once (`rejected`, `busy`, by the validator)
 * rather than queued: the SDK retries elsewhere, and a queue would only add delay before the same answer. Higher
 * lets one validator hold more miner connections (one socket and one actor each).
 * @default 256
 */
export const VALIDATOR_MAX_CONCURRENT_JOBS = 256;

/**
 * On shutdown, how long each running job is given to report `horde_failed`, send its JobFinished receipt and close
 * its miner socket after `supervisor.shutdown`, before it is stopped by force (the dispatcher then reports for it).
 * @default 3_000
 */
export const VALIDATOR_JOB_SHUTDOWN_MS = 3_000;

/**
 * On SIGTERM, once the jobs are stopped: how long the facilitator link may go on sending the outbox before the
 * process closes. What is left stays in SQLite and is sent after the next start. A second signal skips the wait.
 * @default 10_000
 */
export const VALIDATOR_OUTBOX_FLUSH_GRACE_MS = 10_000;

/** How often the outbox depth is checked while flushing on shutdown. @default 50 */
export const VALIDATOR_OUTBOX_FLUSH_POLL_MS = 50;

/**
 * Jobs remembered after they end (job uuid → miner), so that a `V0JobCheated` report can name the miner. Oldest are
 * forgotten first (counted in `horde_validator_job_memory_evictions_total`); a report about a forgotten job is logged
 * and counted as `unknown_job`.
 * @default 10_000
 */
export const VALIDATOR_FINISHED_JOBS_REMEMBERED = 10_000;

/** Folder of the validator's state (the SQLite outbox). @default 'horde-validator-data' */
export const VALIDATOR_DEFAULT_DATA_DIR = 'horde-validator-data';

/** File name of the validator's SQLite database inside its data dir. @default 'validator.sqlite' */
export const VALIDATOR_STORE_FILE = 'validator.sqlite';
