/**
 * Defaults of the client transport actor (anchors.md B.2). Each constant says what changing it does; the options
 * type in `transport.machine.ts` refers back here.
 */

/**
 * Upper bound of the first reconnect delay (full jitter draws in [0, ceiling]).
 * Lower: faster recovery from a blip, more load on a restarting server. @default 1000
 */
export const DEFAULT_RECONNECT_BASE_MS = 1_000;

/**
 * No reconnect delay exceeds this. Higher: less load during a long outage, slower recovery after it. @default 30000
 */
export const DEFAULT_RECONNECT_CAP_MS = 30_000;

/** Growth of the reconnect delay ceiling per failed attempt (2 doubles it). @default 2 */
export const DEFAULT_RECONNECT_MULTIPLIER = 2;

/**
 * Consecutive failed attempts (connections that failed or lived less than `minUptimeMs`) before the transport
 * gives up and stops with reason `gave_up`. Infinity: it never gives up on its own and the owner (or
 * `giveUpAfterMs`) decides. Upstream's `WSTransport` uses 5. @default Infinity
 */
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = Number.POSITIVE_INFINITY;

/**
 * Longest time without a stable connection before the transport gives up (a deadline beats a retry count when
 * the caller has its own timeout). Infinity: no deadline. @default Infinity
 */
export const DEFAULT_GIVE_UP_AFTER_MS = Number.POSITIVE_INFINITY;

/**
 * How long one connection attempt (TCP + TLS + HTTP upgrade) may take before it is abandoned and counted as a
 * failure. Too low on a slow WAN turns every attempt into a timeout. @default 10000
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A connection must stay open this long before the attempt counter resets (partysocket's `minUptime`). Without it a
 * server that accepts and immediately drops would be retried at the base delay forever. @default 5000
 */
export const DEFAULT_MIN_UPTIME_MS = 5_000;

/**
 * Interval between WebSocket pings while open (ws README). 0 disables the heartbeat, and a dead peer behind a
 * silent network (no RST) is then only noticed by the OS, after minutes. @default 30000
 */
export const DEFAULT_PING_INTERVAL_MS = 30_000;

/**
 * How long a ping may go unanswered before the socket is terminated and the transport reconnects. Upstream raised
 * its Python equivalent to 120 s because a blocked event loop missed pongs; Node's loop answers pongs in the
 * ws library itself, so 10 s holds unless the peer is overloaded. @default 10000
 */
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;

/**
 * Messages kept while they cannot be sent (disconnected, socket congested, reliable window full). Beyond it the
 * overflow policy decides. Akka's buffer size. @default 1000
 */
export const DEFAULT_OUTBOX_CAPACITY = 1_000;

/**
 * What a full outbox does with one more message: `drop_oldest` keeps the newest messages (status updates,
 * heartbeats are worth more fresh), `drop_newest` refuses the new one, `fail` stops the transport with reason
 * `outbox_overflow` so its supervisor notices. Each drop is counted. @default 'drop_oldest'
 */
export const DEFAULT_OUTBOX_OVERFLOW = 'drop_oldest' as const;

/**
 * Largest incoming frame accepted, as upstream's Python client (`max_size`). Inline volumes ride inside job
 * requests, so lowering it refuses real jobs; a larger frame closes the socket with 1009. @default 52428800
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 50 * 1024 * 1024;

/**
 * Bytes buffered in the socket (ws `bufferedAmount`) above which new messages wait in the outbox until the kernel
 * takes what is queued. Higher: more memory per slow peer; lower: more time in the outbox. @default 1048576
 */
export const DEFAULT_SEND_HIGH_WATER_MARK_BYTES = 1024 * 1024;

/**
 * How long a graceful `transport.close` may take (flushing the outbox, waiting for reliable acks, the close
 * handshake) before the socket is terminated and what remains is counted as dropped. @default 5000
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Whether the transport offers reliable mode (`x-horde-reliable`) in its upgrade. A peer that does not answer it
 * (upstream Python) gets plain frames regardless. @default false
 */
export const DEFAULT_RELIABLE = false;

/**
 * In reliable mode, frames sent and not yet acknowledged (the in-flight window). When it is full, new messages
 * wait in the outbox, so a peer that stops acking exerts backpressure instead of growing memory. @default 1000
 */
export const DEFAULT_RELIABLE_WINDOW = 1_000;

/**
 * A `QuietBatch` (quietBatch.ts) runs its work once no item came for this long: the burst of frames that produced
 * the work has been served. Lower: the work may run between two waves of the same burst (a load generator that
 * sends 100 frames takes ~10 ms, with gaps of a few ms when it is descheduled), in front of the answers still to
 * send; higher: deferred work (job actor starts, receipt crypto) starts later after each burst. @default 5
 */
export const QUIET_BATCH_DEFAULT_QUIET_MS = 5;

/**
 * Longest a `QuietBatch` (quietBatch.ts) holds its first item, however long the stream of items goes on (a steady
 * stream is never quiet). Higher: fewer, bigger batches under sustained load, started later. @default 100
 */
export const QUIET_BATCH_DEFAULT_MAX_DELAY_MS = 100;

/**
 * Items a `QuietBatch` (quietBatch.ts) holds; the push that reaches it runs the batch at once (nothing is dropped,
 * the deferral just ends early). Callers bound their own work too. @default 10000
 */
export const QUIET_BATCH_DEFAULT_CAPACITY = 10_000;
