/**
 * Every default of the resilience area (retry policies, circuit breakers, task groups), in one place. Each constant
 * says what changing it costs. Upstream parity presets (ComputeHorde's own retry constants) are at the end.
 */
import type { CircuitBreakerPolicy } from './circuitBreaker';
import type { RetryPolicy } from './retry';

// ---------------------------------------------------------------------------------------------------------------
// Retry policy (Temporal's shape: initial interval, coefficient, cap, attempts, non-retryable codes)
// ---------------------------------------------------------------------------------------------------------------

/** Ceiling of the first retry's delay. Temporal's default. Lower: a flapping peer is hit sooner and harder;
 * higher: a one-off blip costs the caller a full second more. @default 1000 */
export const DEFAULT_RETRY_INITIAL_INTERVAL_MS = 1_000;

/** Growth of the delay ceiling per failed attempt. Temporal's default; 1 makes every delay equal. @default 2 */
export const DEFAULT_RETRY_BACKOFF_COEFFICIENT = 2;

/** No delay exceeds this. Temporal's 100 × initial interval. Lower caps the worst wait of a long retry chain;
 * higher stops a dead dependency from being polled every `maximumIntervalMs`. @default 100000 */
export const DEFAULT_RETRY_MAXIMUM_INTERVAL_MS = 100_000;

/**
 * Attempts in total, the first one included. Temporal's default is unlimited; Horde's is finite because its work is
 * deadline-bound (a job's time budget expires long before an unlimited chain gives up) and because the supervisor,
 * not the retry loop, is the place for "keep trying forever". With the other defaults the fifth attempt starts at
 * most 1 + 2 + 4 + 8 = 15 s after the first. `Infinity` means unlimited. @default 5
 */
export const DEFAULT_RETRY_MAXIMUM_ATTEMPTS = 5;

/** Jitter on each delay. Full jitter spreads a herd of callers best (AWS architecture blog) at the price of
 * sometimes retrying almost at once; `'none'` gives exact, reproducible delays. @default 'full' */
export const DEFAULT_RETRY_JITTER = 'full' as const;

/** The default policy, assembled from the constants above, with no non-retryable codes. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialIntervalMs: DEFAULT_RETRY_INITIAL_INTERVAL_MS,
  backoffCoefficient: DEFAULT_RETRY_BACKOFF_COEFFICIENT,
  maximumIntervalMs: DEFAULT_RETRY_MAXIMUM_INTERVAL_MS,
  maximumAttempts: DEFAULT_RETRY_MAXIMUM_ATTEMPTS,
  jitter: DEFAULT_RETRY_JITTER,
  nonRetryableCodes: Object.freeze([]),
});

/** Codes `retrying()` never retries whatever the policy lists: its own abort. */
export const ALWAYS_NON_RETRYABLE_CODES: readonly string[] = Object.freeze(['retry.aborted']);

// ---------------------------------------------------------------------------------------------------------------
// Circuit breaker (count of failures within a sliding window; see src/resilience/circuitBreaker.ts)
// ---------------------------------------------------------------------------------------------------------------

/** Failures within `failureWindowMs` that open a closed breaker. Lower trips on noise; higher lets a dead peer
 * eat more calls (and their timeouts) before it is skipped. It is also the length of the per-breaker timestamp
 * ring, so memory per breaker grows with it. @default 5 */
export const DEFAULT_CIRCUIT_FAILURE_THRESHOLD = 5;

/** Sliding window the failures must fall in. Must exceed `(threshold - 1) ×` the caller's call interval or the
 * breaker can never trip: a manifest poll every 5 min needs a window of at least 20 min for a threshold of 5.
 * @default 60000 */
export const DEFAULT_CIRCUIT_FAILURE_WINDOW_MS = 60_000;

/** Time an open breaker rejects everything before admitting a probe. Lower: a dead peer is probed more often;
 * higher: a recovered peer stays unused longer. @default 30000 */
export const DEFAULT_CIRCUIT_COOL_DOWN_MS = 30_000;

/** Growth of the cool-down each time a probe fails and the breaker re-opens without having closed in between.
 * 1 keeps it constant. @default 2 */
export const DEFAULT_CIRCUIT_COOL_DOWN_MULTIPLIER = 2;

/** Cap of the growing cool-down: a peer dead for hours is still probed this often. @default 600000 (10 min) */
export const DEFAULT_CIRCUIT_MAX_COOL_DOWN_MS = 600_000;

/** Requests admitted in half-open, all of which must succeed to close the breaker; one failure re-opens it.
 * Higher: more confidence before full traffic returns, and more calls wasted on a still-dead peer. @default 1 */
export const DEFAULT_CIRCUIT_HALF_OPEN_PROBES = 1;

/** A probe that reports no outcome within this time frees its slot so another probe may go (a caller that forgot
 * to report would otherwise wedge the breaker half-open forever). Set it above the protected call's own timeout.
 * @default 60000 */
export const DEFAULT_CIRCUIT_PROBE_TIMEOUT_MS = 60_000;

/** The default breaker policy, assembled from the constants above. */
export const DEFAULT_CIRCUIT_BREAKER_POLICY: CircuitBreakerPolicy = Object.freeze({
  failureThreshold: DEFAULT_CIRCUIT_FAILURE_THRESHOLD,
  failureWindowMs: DEFAULT_CIRCUIT_FAILURE_WINDOW_MS,
  coolDownMs: DEFAULT_CIRCUIT_COOL_DOWN_MS,
  coolDownMultiplier: DEFAULT_CIRCUIT_COOL_DOWN_MULTIPLIER,
  maxCoolDownMs: DEFAULT_CIRCUIT_MAX_COOL_DOWN_MS,
  halfOpenProbes: DEFAULT_CIRCUIT_HALF_OPEN_PROBES,
  probeTimeoutMs: DEFAULT_CIRCUIT_PROBE_TIMEOUT_MS,
});

// ---------------------------------------------------------------------------------------------------------------
// Task group
// ---------------------------------------------------------------------------------------------------------------

/** How a task group treats a failed child. `isolate` lets the others finish (a batch of independent miners: one
 * dead miner must not cost the rest their score); `fail_fast` is for all-or-nothing groups. @default 'isolate' */
export const DEFAULT_TASKGROUP_ERROR_POLICY = 'isolate' as const;

/** Children run at once when the group sets no limit: all of them. The group's size is its own bound (see
 * `TASKGROUP_MAX_CHILDREN`); set a limit where each child holds a scarce resource (sockets, downloads). */
export const DEFAULT_TASKGROUP_CONCURRENCY = Number.POSITIVE_INFINITY;

/** Upper bound on children per group, checked when the group starts. Bounds the group's context, its barrier
 * bookkeeping and its result list. Upstream's largest batch was one task per executor of the whole subnet (a few
 * thousand); beyond this, split into several groups. @default 10000 */
export const TASKGROUP_MAX_CHILDREN = 10_000;

/**
 * Children per shard: a task group spreads its children over shard actors of this size, because XState copies a
 * machine's whole `children` record on every spawn and stop (quadratic in the number of children of one machine;
 * 1000 direct children took seconds to stop). Per child the cost grows with this size, per group with
 * `(children / this)²`; 32 keeps both small up to `TASKGROUP_MAX_CHILDREN`. Not a tuning knob for callers. @default 32
 */
export const TASKGROUP_SHARD_SIZE = 32;

// ---------------------------------------------------------------------------------------------------------------
// Upstream parity presets (computehorde-upstream.md §2.7, §8.4). Names say where upstream uses them.
// ---------------------------------------------------------------------------------------------------------------

/** Executor output upload over HTTP (`compute_horde_core` output uploads): 3 attempts, waits 1 s then 2 s, no
 * jitter. Upstream bounds each attempt by 300 s (`UPLOAD_ATTEMPT_TIMEOUT_MS`). */
export const UPSTREAM_OUTPUT_UPLOAD_RETRY: RetryPolicy = Object.freeze({
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 2_000,
  maximumAttempts: 3,
  jitter: 'none',
  nonRetryableCodes: Object.freeze([]),
});

/** Per-attempt timeout of an upstream output upload. */
export const UPSTREAM_UPLOAD_ATTEMPT_TIMEOUT_MS = 300_000;

/** Volume download (`zip_url`, `single_file`, Hugging Face): `max_retries = 3`, so 4 attempts, waits of 1, 2 and
 * 4 s each stretched by ×(1 + U(0, 0.1)). */
export const UPSTREAM_VOLUME_DOWNLOAD_RETRY: RetryPolicy = Object.freeze({
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 4_000,
  maximumAttempts: 4,
  jitter: Object.freeze({ ratio: 0.1 }),
  nonRetryableCodes: Object.freeze([]),
});

/** Validator weight setting: 100 attempts, 5 s apart. */
export const UPSTREAM_SET_WEIGHTS_RETRY: RetryPolicy = Object.freeze({
  initialIntervalMs: 5_000,
  backoffCoefficient: 1,
  maximumIntervalMs: 5_000,
  maximumAttempts: 100,
  jitter: 'none',
  nonRetryableCodes: Object.freeze([]),
});

/** Slashing (collateral) calls: 5 retries (6 attempts), backoff factor 2 s, capped at 120 s. */
export const UPSTREAM_SLASHING_RETRY: RetryPolicy = Object.freeze({
  initialIntervalMs: 2_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 120_000,
  maximumAttempts: 6,
  jitter: 'none',
  nonRetryableCodes: Object.freeze([]),
});
