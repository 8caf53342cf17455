/**
 * Every default of the miner, in one place. Each constant says what changing it does; constants that mirror an
 * upstream value say where upstream keeps it.
 */
import type { ExecutorClass } from '../../protocol/enums';

/** Port `horde miner` listens on (upstream's daphne `-p 8000`). @default 8000 */
export const MINER_DEFAULT_PORT = 8_000;

/** Address `horde miner` binds (all interfaces, like upstream's `-b 0.0.0.0`). @default '0.0.0.0' */
export const MINER_DEFAULT_HOST = '0.0.0.0';

/**
 * Spin-up time of each executor class (upstream `EXECUTOR_CLASS[c].spin_up_time`). The executor pool gives a new
 * executor this long to start (process spawned, container running) before it fails the job with
 * `executor_spinup_failed`; validators wait this plus {@link EXECUTOR_STARTUP_TIME_LIMIT_MS} for readiness.
 */
export const EXECUTOR_CLASS_SPIN_UP_MS: Readonly<Record<Exclude<ExecutorClass, 'unknown'>, number>> = Object.freeze({
  'spin_up-4min.gpu-24gb': 240_000,
  'always_on.gpu-24gb': 3_000,
  'always_on.llm.a6000': 30_000,
  'always_on.test': 3_000,
  'always_on.cpu.8c.16gb': 30_000,
});

/**
 * Upstream `DYNAMIC_EXECUTOR_STARTUP_TIME_LIMIT`: the executor's startup stage budget, which validators add to the
 * class spin-up time when they wait for `V0ExecutorReadyRequest`. A job whose executor has not connected within spin-up
 * + this is failed with `executor_spinup_failed` and its executor killed (the validator has given up by then).
 * @default 5_000
 */
export const EXECUTOR_STARTUP_TIME_LIMIT_MS = 5_000;

/**
 * Upstream `MAX_EXECUTOR_TIMEOUT` (20 min): an executor still running this long after it was spawned is killed and
 * its slot freed, whatever it is doing. Lower frees slots held by hung executors sooner but kills long jobs.
 * @default 1_200_000
 */
export const EXECUTOR_TTL_MS = 20 * 60_000;

/**
 * How often the pool checks that each running executor is still alive (process exists, container running). Exits are
 * normally reported at once (process `exit`, container `wait`); the check catches what those miss (a container
 * removed behind our back, a lost event stream). Upstream checks every 1 s; this is a backstop, so 5 s.
 * @default 5_000
 */
export const EXECUTOR_HEALTH_CHECK_INTERVAL_MS = 5_000;

/**
 * A kill first asks politely (SIGTERM, `docker stop`), then forces (SIGKILL) after this long. Upstream: docker stop
 * with 5 s. Longer lets an executor report and clean up; the slot stays held meanwhile.
 * @default 5_000
 */
export const EXECUTOR_STOP_GRACE_MS = 5_000;

/**
 * After a forced kill, how long to wait for the exit to be confirmed before giving up on the executor (counted as
 * `kill_unconfirmed`) and freeing its slot anyway.
 * @default 5_000
 */
export const EXECUTOR_KILL_CONFIRM_TIMEOUT_MS = 5_000;

/**
 * Once its job is over (finished, failed, abandoned), an executor gets this long to clean up and exit on its own
 * before it is killed. Covers the executor's own cleanup bound (60 s). Shorter frees slots sooner but may kill an
 * executor while it removes its job container (the miner's sweep then removes it).
 * @default 60_000
 */
export const EXECUTOR_EXIT_GRACE_AFTER_JOB_MS = 60_000;

/**
 * Upper bound of the sweep that removes a finished executor's leftover job containers (by the `horde.token` label).
 * @default 30_000
 */
export const EXECUTOR_SWEEP_TIMEOUT_MS = 30_000;

/**
 * A pool starts the executors of reserved slots once no slot has been reserved for this long (a burst of initial
 * requests is answered first: every accept goes out before the first executor start is prepared). It is wall-clock
 * time, so on a loaded machine a miner descheduled for longer mid-burst starts executors before the rest of the
 * burst is read. Longer delays each executor start by as much (nothing next to a spin-up of seconds); 0 starts them
 * one timer tick after the reservation, in the middle of a burst, adding their cost to the later accepts' latency.
 * @default 50
 */
export const EXECUTOR_SPAWN_QUIET_MS = 50;

/**
 * …but never later than this after the oldest reservation still waiting for its executor, however steadily
 * reservations keep coming. Bounds the delay EXECUTOR_SPAWN_QUIET_MS adds to an executor start.
 * @default 250
 */
export const EXECUTOR_SPAWN_MAX_DELAY_MS = 250;

/**
 * Supervisors the job actors are spread over (by job uuid, like Elixir's `PartitionSupervisor`). Spawning a child
 * costs O(children) in XState (its children record is copied) and in the supervisor's bookkeeping, so one supervisor
 * of every job makes a burst of initial requests quadratic. More partitions make each spawn cheaper and the
 * supervision tree wider; the jobs limit (2 000) is split evenly between them.
 * @default 16
 */
export const JOB_SUPERVISOR_PARTITIONS = 16;

/**
 * Upstream: an `AcceptedJob` in `WAITING_FOR_PAYLOAD` not updated for 10 min is failed. Here the job actor fails
 * itself when it has waited this long for the validator's `V0JobRequest`, and its executor is released.
 * @default 600_000
 */
export const WAITING_FOR_PAYLOAD_STALE_MS = 10 * 60_000;

/**
 * Upstream: any other active `AcceptedJob` not updated for a day is failed. Here, a job with no status change for
 * this long fails itself.
 * @default 86_400_000
 */
export const ACTIVE_JOB_STALE_MS = 24 * 60 * 60_000;

/**
 * A job that ended while its validator was disconnected keeps its final message this long, waiting for the validator to
 * reconnect. Upstream drops such a message; longer holds a little memory per abandoned job.
 * @default 600_000
 */
export const UNDELIVERED_RESULT_TTL_MS = 10 * 60_000;

/**
 * Messages a validator may send before it authenticates (upstream queues them without a bound). Past it, messages
 * are dropped (counted in `horde_miner_dropped_messages_total{queue="pre_auth"}`) and answered with GenericError.
 * @default 64
 */
export const PRE_AUTH_QUEUE_CAPACITY = 64;

/**
 * Events held for an accepted job whose actor is not started yet (its start is deferred until a burst of initial
 * requests has been answered: 5 ms after the last accept, up to 100 ms under sustained load). Only a handful can
 * come in that time (its `V0JobRequest`, its validator's connections attaching or closing); past it they are dropped
 * (counted as `job_start`).
 * @default 16
 */
export const JOB_EARLY_EVENTS_CAPACITY = 16;

/**
 * Non-final executor messages a job buffers while no validator connection is attached. Past it the oldest are dropped
 * (counted); the final message is kept apart and never dropped.
 * @default 64
 */
export const DETACHED_OUTBOX_CAPACITY = 64;

/**
 * Receipts waiting for verification, countersigning and storing (each costs ~12 ms of sr25519 on a loaded 2-core
 * box). Past it a receipt is refused (counted in `horde_miner_receipts_refused_total{reason="queue_full"}`).
 * @default 10_000
 */
export const RECEIPT_QUEUE_CAPACITY = 10_000;

/**
 * Worker threads that verify and countersign receipts (sr25519 is pure JavaScript here: ~12 ms per receipt). One
 * keeps that work off the event loop, so a burst of initial requests is answered while their receipts are checked;
 * more only help on a machine with cores to spare. 0 signs on the event loop.
 * @default 1
 */
export const RECEIPT_CRYPTO_THREADS = 1;

/**
 * Nice value of the receipt crypto threads (Linux). Receipts can wait a few hundred milliseconds; accepts cannot:
 * with few cores, the event loop wins the CPU over signature checks. 0 keeps the normal priority.
 * @default 10
 */
export const RECEIPT_CRYPTO_NICE = 10;

/** Upstream `PAGE_TIME`: receipts are appended to the page `floor(unix_seconds / 300)`. @default 300 */
export const RECEIPT_PAGE_SECONDS = 300;

/** Excuse receipts sent with one busy decline at most (a decline carries every valid one upstream). @default 1_000 */
export const MAX_EXCUSE_RECEIPTS = 1_000;

/**
 * SIGTERM drain: running jobs get this long to finish before their executors are killed. Longer loses fewer jobs on a
 * restart; a supervisor (systemd, Docker) must wait at least this plus a few seconds before its own SIGKILL.
 * @default 60_000
 */
export const DRAIN_GRACE_MS = 60_000;

/**
 * Longest line of an executor child process's stdout/stderr copied to the miner's log (longer lines are cut).
 * @default 2_000
 */
export const EXECUTOR_LOG_LINE_MAX_CHARS = 2_000;

/** Executor image of the Docker backend (upstream's image name; a Horde image has to be built locally). */
export const DOCKER_EXECUTOR_IMAGE = 'horde-executor:local';

/** Docker label values the miner sets on executor containers (with `horde.managed=true`). */
export const EXECUTOR_CONTAINER_ROLE = 'executor';

/**
 * Warm standby executors kept by the process backend (`--executor-standby`): each is an idle `horde executor --standby`
 * process, modules loaded, waiting for a job's token on stdin. A job that finds one ready skips the process start (about
 * a second of Node + module loading on a small machine). Each costs the memory of an idle executor (~60-100 MB RSS)
 * for as long as the miner runs; more than the number of jobs that start at the same moment buys nothing. 0 disables:
 * every executor then starts cold.
 * @default 1
 */
export const EXECUTOR_STANDBY_COUNT = 1;

/**
 * Jobs one standby executor process runs one after another (`--executor-standby-jobs`) before it exits. Each job
 * still gets its own token, connection, workspace and cleanup; only the loaded process is reused, and only after a job
 * that ended cleanly (completed or job failed). Reuse spares each job a process start that would otherwise run beside
 * the previous job's container start (measured on 2 cores: +120 ms on that job's execution). Higher keeps a process
 * longer (its heap grows with whatever leaks); 1 is upstream's one process per job.
 * @default 100
 */
export const EXECUTOR_STANDBY_JOBS = 100;

/**
 * With reuse, how long after a standby is taken its replacement starts, unless it came back first. Jobs shorter than
 * this never start a process; a longer one gets its replacement after it is past its container start.
 * @default 3_000
 */
export const EXECUTOR_STANDBY_REFILL_DELAY_MS = 3_000;

/**
 * With reuse, how long a job that finds no ready standby waits for one that is finishing its previous job (cleanup
 * runs after the result is out, so a user's next job can arrive first) before it starts a process cold. Measured:
 * 6 of 80 back-to-back jobs started cold without it. Longer only delays cold starts when no standby comes back
 * (a cold start takes about a second anyway).
 * @default 250
 */
export const EXECUTOR_STANDBY_RETURN_WAIT_MS = 250;

/**
 * Backoff between attempts to replace a standby that failed to start or died untaken. Bounded so that a broken
 * executor command (bad flag, missing binary) costs at most one failed start per `capMs`, never a tight loop.
 * @default { baseMs: 1_000, capMs: 30_000, multiplier: 2 }
 */
export const EXECUTOR_STANDBY_RETRY_BACKOFF = Object.freeze({ baseMs: 1_000, capMs: 30_000, multiplier: 2 });

/** Smallest delay before replacing a failed standby, whatever the jitter draws. @default 250 */
export const EXECUTOR_STANDBY_MIN_RETRY_DELAY_MS = 250;

/**
 * A standby that lived this long before it ended had started fine (it was killed or crashed later): its end starts a
 * new run of failures instead of lengthening the backoff. Longer than a slow start (~2 s on a loaded machine).
 * @default 10_000
 */
export const EXECUTOR_STANDBY_STABLE_AFTER_MS = 10_000;

/**
 * On shutdown a standby is dismissed by closing its stdin (it exits at once); one still running this long after is
 * killed with SIGKILL. Longer only delays the miner's exit when a standby hangs.
 * @default 1_000
 */
export const EXECUTOR_STANDBY_DISMISS_GRACE_MS = 1_000;
