/**
 * Every default of the validator's routing area: the router, the reliability ledger, the busy tracker, per-miner
 * availability (circuit breakers) and the manifest fetcher. Each constant says what changing it costs. Upstream
 * values (computehorde-upstream.md §3.3, §3.8, §4) are named as such.
 */
import type { CircuitBreakerPolicy } from '../../resilience/circuitBreaker';
import type { RetryPolicy } from '../../resilience/retry';
import type { ExecutorClass } from '../../protocol';

// ---------------------------------------------------------------------------------------------------------------
// Reliability weighting (upstream routing: score = −incidents in 24 h / executor count, then a sigmoid)
// ---------------------------------------------------------------------------------------------------------------

/** How far back incidents count against a miner. Upstream: 24 h. Shorter forgives a flaky miner sooner; longer
 * keeps punishing one that has recovered. @default 86400000 */
export const RELIABILITY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Centre of the sigmoid that turns a reliability score into a weight (upstream: soft_cutoff / 2 = −25). A miner
 * with this score gets weight 0.5; one with score 0 gets ≈ 0.9933. @default -25 */
export const RELIABILITY_SIGMOID_CENTRE = -25;

/** Upstream's "steepness" (5): the sigmoid's slope is `steepness / −centre` = 5/25 = 0.2 per score unit. Higher
 * makes a few incidents matter more sharply around the centre. @default 5 */
export const RELIABILITY_SIGMOID_STEEPNESS = 5;

/** Weights are clipped to [ε, 1 − ε] so that no miner is ever impossible (or certain) to be drawn first
 * (upstream, to keep `numpy.random.choice` happy). @default 1e-6 */
export const RELIABILITY_WEIGHT_EPSILON = 1e-6;

/** The sigmoid's exponent is clipped to ±this (upstream clips `z` to [−500, 500]: `exp` overflows beyond ~709). */
export const RELIABILITY_SIGMOID_MAX_EXPONENT = 500;

// ---------------------------------------------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------------------------------------------

/**
 * A manifest older than this is not routed to (`stale_manifest`). Five rounds of the default fetch interval: a miner
 * that stopped answering keeps its work for a few minutes, longer only if its breaker stays closed. Upstream routing
 * looked back 4 h with 5-min polls; shorter here because our polls are cheaper and our jobs are routed from memory.
 * @default 300000
 */
export const DEFAULT_MANIFEST_MAX_AGE_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------------------------
// Ledger and busy tracker bounds
// ---------------------------------------------------------------------------------------------------------------

/** Incidents kept per (miner, class); beyond it the oldest is dropped (and counted). A miner with this many
 * incidents in the window already has a weight near ε (score ≤ −1000 / executors), so more history changes nothing
 * for small miners. @default 1000 */
export const LEDGER_MAX_INCIDENTS_PER_KEY = 1_000;

/** (miner, class) pairs the ledger tracks; beyond it the least recently recorded pair is forgotten (and counted).
 * 256 UIDs × 5 classes fit eight times over. @default 10000 */
export const LEDGER_MAX_KEYS = 10_000;

/** Running jobs the busy tracker holds; a `begin` beyond it is dropped (and counted), so that miner looks less busy
 * than it is and may decline a job as busy. The dispatcher's own job limit should stay well below. @default 10000 */
export const BUSY_TRACKER_MAX_JOBS = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// Per-miner availability (one circuit breaker per miner, shared by the manifest fetcher and job connections)
// ---------------------------------------------------------------------------------------------------------------

/** Failed dials (manifest attempts or job connections) within the window that open a miner's breaker. With 2
 * attempts per round, a dead miner is skipped from its second round on. Lower trips on a single blip. @default 3 */
export const MINER_CIRCUIT_FAILURE_THRESHOLD = 3;

/** Window those failures must fall in: several fetch intervals, or a poll-driven breaker could never trip
 * (`(threshold − 1) ×` the interval at least). @default 600000 */
export const MINER_CIRCUIT_FAILURE_WINDOW_MS = 10 * 60_000;

/** First cool-down of an open miner breaker: about one fetch interval, so the next round after it probes.
 * @default 60000 */
export const MINER_CIRCUIT_COOL_DOWN_MS = 60_000;

/** Cap of the growing cool-down (×2 per failed probe): a miner dead for hours is still probed this often.
 * @default 900000 */
export const MINER_CIRCUIT_MAX_COOL_DOWN_MS = 15 * 60_000;

/** A half-open probe silent this long frees its slot. Above the manifest timeout; a job routed as a probe that
 * runs longer simply lets another probe through. @default 90000 */
export const MINER_CIRCUIT_PROBE_TIMEOUT_MS = 90_000;

/** The per-miner breaker policy assembled from the constants above. */
export const DEFAULT_MINER_CIRCUIT_POLICY: CircuitBreakerPolicy = Object.freeze({
  failureThreshold: MINER_CIRCUIT_FAILURE_THRESHOLD,
  failureWindowMs: MINER_CIRCUIT_FAILURE_WINDOW_MS,
  coolDownMs: MINER_CIRCUIT_COOL_DOWN_MS,
  coolDownMultiplier: 2,
  maxCoolDownMs: MINER_CIRCUIT_MAX_COOL_DOWN_MS,
  halfOpenProbes: 1,
  probeTimeoutMs: MINER_CIRCUIT_PROBE_TIMEOUT_MS,
});

/** Miners with a breaker at once; beyond it the least recently used breaker is forgotten (and counted), which
 * closes it. The metagraph holds 256 UIDs. @default 4096 */
export const AVAILABILITY_MAX_MINERS = 4_096;

// ---------------------------------------------------------------------------------------------------------------
// Manifest fetcher (upstream `sync_manifests`, §3.3)
// ---------------------------------------------------------------------------------------------------------------

/** Time between the end of one round and the start of the next. Upstream: 5 min. Shorter notices a new or
 * recovered miner sooner, at one connection per miner per round. @default 60000 */
export const DEFAULT_MANIFEST_INTERVAL_MS = 60_000;

/** Fetches in flight at once (sockets open at once). 200 miners take ~7 waves of 32. Higher finishes a round sooner
 * at the cost of more file descriptors and a burstier CPU. @default 32 */
export const DEFAULT_MANIFEST_CONCURRENCY = 32;

/** Bound on one fetch attempt: dial, auth, manifest. Upstream: 30 s. @default 30000 */
export const DEFAULT_MANIFEST_TIMEOUT_MS = 30_000;

/** Per-miner retry of a manifest fetch within one round: 2 attempts, the second within 1 s (full jitter). A miner
 * refusing us or with an open breaker is not retried. More attempts slow a round that has dead miners in it. */
export const MANIFEST_FETCH_RETRY: RetryPolicy = Object.freeze({
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 1_000,
  maximumAttempts: 2,
  jitter: 'full',
  nonRetryableCodes: Object.freeze(['circuit.open', 'manifest.refused', 'retry.aborted']),
});

/** After the manifest arrives we close politely; a miner that does not answer the close frame within this is cut
 * off (ws would otherwise keep the socket for its own 30 s close timeout). @default 1000 */
export const MANIFEST_CLOSE_GRACE_MS = 1_000;

/** Largest frame accepted on a manifest connection: a manifest is tens of bytes, but a miner may push job messages
 * first; anything bigger is refused by ws with close code 1009. @default 1048576 */
export const MANIFEST_MAX_FRAME_BYTES = 1024 * 1024;

/** Frames other than the manifest tolerated on one manifest connection before giving up on it. @default 32 */
export const MANIFEST_MAX_OTHER_FRAMES = 32;

/** Upstream's `DYNAMIC_MINER_MAX_EXECUTORS_PER_CLASS` default: an announced count above this is cut down to it. */
export const MINER_MAX_EXECUTORS_PER_CLASS: Readonly<Partial<Record<ExecutorClass, number>>> = Object.freeze({
  'always_on.llm.a6000': 2,
});

/** Cap for classes `MINER_MAX_EXECUTORS_PER_CLASS` does not list (Horde's own bound: upstream has none). Keeps one
 * boastful miner from soaking up every job. @default 1000 */
export const MINER_MAX_EXECUTORS_ANY_CLASS = 1_000;

/** Manifests kept at once (one per miner); miners that left the metagraph are dropped every round. @default 4096 */
export const MANIFEST_BOOK_MAX_MINERS = 4_096;
