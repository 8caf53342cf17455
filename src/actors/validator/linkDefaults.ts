/**
 * Defaults of the validator's facilitator link and durable outbox (store.ts, facilitatorLink.ts,
 * facilitatorLink.machine.ts). Each says what changing it does.
 */
import type { BackoffPolicy } from '../../util/backoff';

/**
 * Interval between `V0Heartbeat`s while authenticated (upstream: 60 s). The facilitator only routes jobs to a
 * validator whose last heartbeat is younger than 3 min, and drops channels silent for 10 min: longer than ~170 s
 * makes the validator look gone between beats. @default 60000
 */
export const DEFAULT_LINK_HEARTBEAT_INTERVAL_MS = 60_000;

/**
 * Status updates sent and not yet answered by a `Response` (the in-flight window). Responses carry no job id, so
 * they are matched in order; a bigger window means more resends after a connection loss (each answered
 * `job.integrity_error`, harmless) and more memory in flight; a smaller one caps throughput at window/RTT.
 * @default 32
 */
export const DEFAULT_LINK_WINDOW = 32;

/**
 * How long the facilitator may take to answer `V0AuthenticationRequest` before the link drops the connection and
 * retries (with the auth backoff). Too low on a loaded facilitator turns every slow answer into a reconnect.
 * @default 30000
 */
export const DEFAULT_LINK_AUTH_TIMEOUT_MS = 30_000;

/**
 * Full-jitter backoff between attempts after the facilitator refused authentication (`auth.*` error) or did not
 * answer it. Socket-level reconnects use the transport's own backoff (src/transport/defaults.ts). Upstream waits
 * 2 s growing to 10 s; we cap higher because a refusal (unknown or inactive validator) usually lasts until the next
 * metagraph sync. @default { baseMs: 2000, capMs: 60000, multiplier: 2 }
 */
export const DEFAULT_LINK_AUTH_RETRY: BackoffPolicy = { baseMs: 2_000, capMs: 60_000, multiplier: 2 };

/**
 * Socket send buffer (ws `bufferedAmount`) above which the transport would queue frames in its own outbox. The
 * link keeps it far above what one window can hold, so a frame is either on the socket or still only in SQLite:
 * a frame parked in the transport's outbox would be flushed before the next connection's authentication.
 * Memory stays bounded by the window (32 frames). @default 268435456
 */
export const LINK_SEND_HIGH_WATER_MARK_BYTES = 256 * 1024 * 1024;

/**
 * Rows the outbox holds before `report()` refuses new statuses with `OutboxFullError` (a status is never dropped
 * silently). A status row is ~0.3–2 KB (a `completed` row carries stdout/stderr), so the default bounds the file
 * to a few hundred MB during a facilitator outage of many hours at full load. Lower: refusals (jobs end without
 * their status reaching the facilitator) during shorter outages. @default 100000
 */
export const DEFAULT_OUTBOX_CAPACITY_ROWS = 100_000;

/**
 * How long a finished job stays in the jobs table (the redelivery filter of `recordJob`). A job redelivered later
 * than this would run again; the facilitator only redelivers on reconnect, within minutes. @default 604800000 (7 d)
 */
export const DEFAULT_JOB_RETENTION_MS = 7 * 24 * 3_600_000;

/** Finished jobs older than the retention are pruned at open and after this many `recordJob` calls. @default 1000 */
export const JOB_PRUNE_EVERY_RECORDS = 1_000;

/**
 * How long `FacilitatorLinkHandle.stop()` waits for the socket's close handshake before it stops the transport
 * actor anyway. @default 5000
 */
export const DEFAULT_LINK_STOP_TIMEOUT_MS = 5_000;
