/**
 * Every default of the facilitator, in one place. Each constant says what changing it does; constants that mirror an
 * upstream value say where upstream keeps it.
 */

/** Address `horde facilitator` binds. Loopback: the REST API must be put behind TLS before it faces anyone. @default '127.0.0.1' */
export const FACILITATOR_DEFAULT_HOST = '127.0.0.1';

/** Port `horde facilitator` listens on (REST + `/ws/v0/` + metrics). @default 9000 */
export const FACILITATOR_DEFAULT_PORT = 9_000;

/** Where jobs, statuses and the generated JWT secret are kept. @default 'horde-facilitator-data' */
export const FACILITATOR_DEFAULT_DATA_DIR = 'horde-facilitator-data';

/**
 * A validator is routable when its newest heartbeat (or its authentication) on some connection is at most this old
 * (upstream: `Channel.last_heartbeat >= now - 3 min`). Lower drops validators that miss one 60 s heartbeat sooner.
 * @default 180_000
 */
export const VALIDATOR_FRESHNESS_MS = 3 * 60_000;

/**
 * A connection without a heartbeat (or auth) for this long is closed with 3001 (upstream evicts channels whose
 * heartbeat is older than 10 min). Lower frees dead sockets sooner; must stay well above the 60 s heartbeat.
 * @default 600_000
 */
export const VALIDATOR_EVICTION_MS = 10 * 60_000;

/**
 * Time a new validator connection has to send `V0AuthenticationRequest` before the acceptor closes it (1008).
 * @default 10_000
 */
export const VALIDATOR_AUTH_DEADLINE_MS = 10_000;

/**
 * Largest WebSocket message a validator may send (upstream's client `max_size` is 50 MiB). Status updates carry
 * stdout/stderr (up to 1 M chars each) and artifacts, so this must stay well above 10 MiB.
 * @default 52_428_800
 */
export const VALIDATOR_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

/**
 * Largest REST request body; a bigger one is answered 413 without being read further. Inline volumes (base64 zips)
 * ride in the create-job body and then in one WebSocket frame to the validator, so this matches the WS limit.
 * @default 52_428_800
 */
export const REST_MAX_BODY_BYTES = 50 * 1024 * 1024;

/** Jobs per page of `GET /api/v1/jobs/` when `page_size` is not given (upstream DRF setting). @default 10 */
export const JOBS_PAGE_SIZE_DEFAULT = 10;

/** Largest `page_size` of `GET /api/v1/jobs/`; larger values are clamped (upstream `max_page_size`). @default 256 */
export const JOBS_PAGE_SIZE_MAX = 256;

/** Lifetime of a REST JWT (upstream `JWT_EXPIRATION`); after it the SDK re-authenticates once. @default 3_600_000 */
export const JWT_LIFETIME_MS = 3_600_000;

/** Bytes of the JWT/nonce secret generated into the data dir when none is given. @default 32 */
export const JWT_SECRET_BYTES = 32;

/** Name of the generated secret's file in the data dir (mode 0600). */
export const JWT_SECRET_FILE = 'jwt-secret';

/** Name of the SQLite database in the data dir. */
export const JOB_DB_FILE = 'facilitator.sqlite';

/**
 * Most jobs redelivered to one validator connection right after it authenticates (those it never acknowledged as
 * `received`). More waits for the next reconnect; the oldest go first.
 * @default 1_000
 */
export const REDELIVERY_BATCH_LIMIT = 1_000;

/**
 * Jobs older than this are not redelivered on reconnect (their customer has long given up; the SDK's own attempt
 * deadline is far shorter). @default 3_600_000
 */
export const REDELIVERY_MAX_AGE_MS = 3_600_000;

/**
 * Open Server-Sent-Events streams (`/api/v1/jobs/{uuid}/events/`) at most; one more is answered 503 so the SDK falls
 * back to polling. @default 1_000
 */
export const SSE_MAX_STREAMS = 1_000;

/** Status entries buffered per SSE stream while its socket is not draining; past it the stream is closed (the SDK resumes by polling). @default 256 */
export const SSE_STREAM_BUFFER_ENTRIES = 256;

/** A comment line is written to every SSE stream this often so proxies keep it open. @default 15_000 */
export const SSE_KEEPALIVE_INTERVAL_MS = 15_000;

/** Validator connections held at most by the connections supervisor. @default 2_000 */
export const MAX_VALIDATOR_CONNECTIONS = 2_000;

/** Time open validator connections get to close on shutdown before their sockets are terminated. @default 1_000 */
export const SHUTDOWN_GRACE_MS = 1_000;
