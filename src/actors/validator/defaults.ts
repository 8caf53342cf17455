/**
 * Timing and policy defaults of the validator's organic job actor (one job, one miner connection). Upstream's
 * `DYNAMIC_*` settings in brackets. The process-level defaults live in `validatorDefaults.ts`.
 */
import { EXECUTOR_STARTUP_TIME_LIMIT_MS } from '../miner/defaults';

/**
 * How long the miner has to answer `V0InitialJobRequest` with `V0AcceptJobRequest` (or a decline) before the job
 * ends `horde_failed` / `initial_response_timed_out` [`DYNAMIC_EXECUTOR_RESERVATION_TIME_LIMIT`]. It is also the TTL
 * (whole seconds) of the JobStarted receipt, so it bounds how long this job can excuse the miner's later declines.
 * @default 7_000
 */
export const ORGANIC_RESERVATION_TIME_LIMIT_MS = 7_000;

/**
 * Added to the class spin-up time to give the readiness budget (`V0ExecutorReadyRequest`, else
 * `executor_readiness_response_timed_out`) [`DYNAMIC_EXECUTOR_STARTUP_TIME_LIMIT`]. Same value as the miner's
 * {@link EXECUTOR_STARTUP_TIME_LIMIT_MS}: the executor's own startup stage must fit inside it.
 * @default 5_000
 */
export const ORGANIC_EXECUTOR_STARTUP_TIME_LIMIT_MS = EXECUTOR_STARTUP_TIME_LIMIT_MS;

/**
 * Slack the deadline starts with when the executor is ready, before the job's own limits are added
 * [`DYNAMIC_ORGANIC_JOB_ALLOWED_LEEWAY_TIME`]. Sent to the executor too (`executor_timing.allowed_leeway`), which
 * arms the same ladder a little earlier, so it reports its own timeout before we declare one.
 * @default 5_000
 */
export const ORGANIC_ALLOWED_LEEWAY_MS = 5_000;

/**
 * How long dialling the miner may take (TCP + WebSocket upgrade) before the job ends `horde_failed` /
 * `miner_connection_failed`. Upstream's `MinerClient(connect_timeout=10.0)`. There is no retry: a job connection
 * that fails is a failed job (the SDK retries with a new job).
 * @default 10_000
 */
export const ORGANIC_CONNECT_TIMEOUT_MS = 10_000;

/**
 * After the terminal status, how long the job waits for its miner socket to flush the JobFinished receipt and
 * close before it finishes anyway (the socket is then terminated). Longer only delays the actor's end.
 * @default 2_000
 */
export const ORGANIC_CLOSE_TIMEOUT_MS = 2_000;

/**
 * Minimum stake (alpha) of the validator that issued an excuse receipt [`DYNAMIC_MINIMUM_VALIDATOR_STAKE_FOR_EXCUSE`].
 * Lower lets cheap validators excuse a miner's declines; higher makes more busy declines count as incidents.
 * @default 30_000
 */
export const EXCUSE_MINIMUM_VALIDATOR_STAKE = 30_000;

/**
 * Clock-skew allowance when checking an excuse receipt's expiry (`check_time < timestamp + ttl + leeway`), as
 * upstream's `filter_valid_excuse_receipts`.
 * @default 2_000
 */
export const EXCUSE_EXPIRY_LEEWAY_MS = 2_000;

/**
 * Excuse receipts examined per decline; the rest are ignored (a decline carrying more than this is treated as if it
 * carried only the first ones). Bounds the signature checks a hostile miner can make us do.
 * @default 1_024
 */
export const EXCUSE_MAX_RECEIPTS_CHECKED = 1_024;
