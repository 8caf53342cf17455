/**
 * Every default of the WebSocket acceptor, in one place. Each says what happens when you change it.
 * Routes may override the per-connection ones (`RouteSpec`); the rest are acceptor options.
 */

/**
 * A connection that has not authenticated within this time is closed with 1008.
 * Consequence: bounds how long an idle, unauthenticated socket holds a slot. Upstream's miner accepts an auth message
 * at most 10 s old, so an honest peer authenticates well within this.
 * @default 10_000
 */
export const ACCEPTOR_DEFAULT_AUTH_DEADLINE_MS = 10_000;

/**
 * Largest single WebSocket message accepted; a bigger one closes the connection with 1009.
 * Consequence: matches upstream's Python client (`max_size = 50 MiB`): inline volumes ride inside job messages, so a
 * lower value would refuse legitimate jobs; a higher one lets one peer pin more memory.
 * @default 52_428_800 (50 MiB)
 */
export const ACCEPTOR_DEFAULT_MAX_PAYLOAD_BYTES = 50 * 1024 * 1024;

/**
 * Time between heartbeat pings sent to a quiet peer (ws README pattern, 30 s).
 * Consequence: lower finds dead peers sooner at the cost of more control frames.
 * @default 30_000
 */
export const ACCEPTOR_DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

/**
 * How long a ping may stay unanswered before the socket is terminated (recorded as 1006).
 * Consequence: upstream raised its ping timeout to 120 s because busy Python event loops answered late and healthy
 * connections were dropped; a dead peer is found after at most heartbeat interval + this.
 * @default 120_000
 */
export const ACCEPTOR_DEFAULT_PONG_TIMEOUT_MS = 120_000;

/**
 * After sending a close frame, how long to wait for the peer's close before terminating the socket.
 * Consequence: bounds how long a closing connection lingers (ws's own CLOSE_TIMEOUT is 30 s).
 * @default 5_000
 */
export const ACCEPTOR_DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Most bytes queued in a socket's send buffer (`ws.bufferedAmount`) before the connection is closed as a slow
 * consumer (close code 4000). `ws` itself never bounds this buffer.
 * Consequence: two maximum-size messages fit; a peer that reads slower than we write is cut off instead of growing
 * this process's memory without limit.
 * @default 104_857_600 (100 MiB)
 */
export const ACCEPTOR_DEFAULT_MAX_BUFFERED_BYTES = 100 * 1024 * 1024;

/**
 * Grace given to open connections by `acceptor.close()` before their sockets are terminated.
 * Consequence: longer lets peers finish the close handshake; `close()` never takes much longer than this.
 * @default 5_000
 */
export const ACCEPTOR_DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

/**
 * Extra time the supervisor waits, beyond a connection's close timeout, before stopping the connection actor by force
 * (the child spec's `shutdownMs`). The forced stop terminates the socket, so nothing outlives it.
 * @default 1_000
 */
export const ACCEPTOR_DEFAULT_SUPERVISOR_SHUTDOWN_MARGIN_MS = 1_000;

/**
 * Reliable-mode sessions kept at once (live and detached). When full, the least recently used detached session is
 * evicted; when every session is live, a new reliable upgrade is refused with HTTP 503.
 * Consequence: bounds memory held for clients that went away.
 * @default 10_000
 */
export const ACCEPTOR_DEFAULT_RELIABLE_SESSION_CAPACITY = 10_000;

/**
 * How long a reliable session survives without a connection before it is forgotten (its unacked frames with it).
 * Consequence: a client that reconnects later than this starts a fresh session; frames it had not acked are lost.
 * @default 300_000 (5 min)
 */
export const ACCEPTOR_DEFAULT_RELIABLE_SESSION_TTL_MS = 5 * 60_000;

/**
 * Most unacknowledged outgoing frames per reliable session (Akka's buffer size). Past it the connection is closed as a
 * slow consumer (4000), because dropping a frame would break the gap-free stream.
 * @default 1_000
 */
export const ACCEPTOR_DEFAULT_RELIABLE_SEND_CAPACITY = 1_000;

/**
 * Longest a socket write is held so that the writes of one event-loop turn go out together (`writeCoalescer.ts`):
 * written one by one between the work that produces them, small writes cost the writer several times more CPU than
 * back to back. A held write goes out at the end of the turn's I/O callbacks, or once another write comes this long
 * after it. Higher: cheaper bursts, later early answers; 0: every message is written at once.
 * @default 4
 */
export const ACCEPTOR_DEFAULT_WRITE_COALESCE_MAX_DELAY_MS = 4;
