/**
 * Every default of the telemetry area, in one place. Each constant says what changing it costs.
 */

/** Interface the `/metrics` server binds to when a role has no HTTP server of its own. Loopback keeps actor and
 * job figures off the network; expose them deliberately (a reverse proxy, or `0.0.0.0` in a container). */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** Path Prometheus scrapes. Changing it breaks existing scrape configs. */
export const METRICS_PATH = '/metrics';

/** Liveness path: 200 while the process runs and the root actor is neither `error` nor `stopped`. */
export const HEALTHZ_PATH = '/healthz';

/** Readiness path: 200 only while the root actor says it can take work. */
export const READYZ_PATH = '/readyz';

/** State tag a root machine puts on the states in which it is ready to take work (read by `/readyz` when the role
 * provides no `readiness` function). A root that never uses it is never ready. */
export const READY_TAG = 'ready';

/** Distinct `kind` label values the actor bridge keeps before folding new kinds into `other`. Higher: more series
 * in Prometheus (every kind multiplies the event-type series); lower: distinct machines start sharing `other`. */
export const DEFAULT_MAX_ACTOR_KINDS = 200;

/** Distinct `event` label values per kind before new event types fold into `other`. Event unions are closed, so this
 * only bites when event types are built from data (a bug the overflow counter reveals). */
export const DEFAULT_MAX_EVENT_TYPES_PER_KIND = 64;

/** Distinct error `code` label values per kind before new codes fold into `other`. */
export const DEFAULT_MAX_ERROR_CODES_PER_KIND = 32;

/** Label used when a cap above is reached. */
export const OVERFLOW_LABEL = 'other';

/** Event the supervisor emits for every decision it takes (see the supervisor contract). */
export const SUPERVISOR_DECISION_EVENT = 'supervisor.decision';

/** Environment variable holding the inspector bridge URL (`ws://127.0.0.1:PORT`). Unset: no inspector. */
export const INSPECT_URL_ENV = 'HORDE_INSPECT';

/** Environment variable holding the path of a JSONL file the inspector records into. Unset: no recording. */
export const INSPECT_FILE_ENV = 'HORDE_INSPECT_FILE';

/** Port the local inspector bridge listens on (the Stately tooling's own default). */
export const DEFAULT_INSPECTOR_BRIDGE_PORT = 8080;

/** Interface the inspector bridge binds to. It relays every actor's context: never expose it beyond loopback
 * without a tunnel you control. */
export const DEFAULT_INSPECTOR_BRIDGE_HOST = '127.0.0.1';

/** Events the bridge replays to a newly connected viewer (same figure as `@statelyai/inspect/server`). More: a
 * late viewer sees more history, at that many serialized events of memory. */
export const DEFAULT_INSPECTOR_BRIDGE_REPLAY_EVENTS = 200;

/** Inspection events the websocket inspector holds while the bridge is unreachable, oldest dropped first (counted
 * in `horde_inspector_dropped_events`). More: a late bridge sees more history, at more memory. */
export const DEFAULT_INSPECTOR_BUFFERED_EVENTS = 500;

/** Bytes the JSONL recorder may have queued for the disk before it drops events (counted). Protects memory when
 * the disk is slower than the actor system. */
export const DEFAULT_RECORDER_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Reconnect backoff of the websocket inspector (full jitter). The timers are unref'd, so a retry loop never
 * keeps a process alive. A shorter cap makes a restarted bridge pick events up sooner. */
export const DEFAULT_INSPECTOR_RECONNECT = { baseMs: 500, capMs: 30_000, multiplier: 2 } as const;

/** How long the websocket inspector waits for the bridge's handshake before counting a failed attempt. */
export const DEFAULT_INSPECTOR_HANDSHAKE_TIMEOUT_MS = 5_000;

/** Nesting depth the inspector sanitizer copies; deeper values become `[depth]`. Bounds the cost of huge contexts. */
export const DEFAULT_SANITIZE_DEPTH = 12;

/** Text that replaces a redacted value. */
export const REDACTED = '[redacted]';

/** Words that mark a field as secret (matched against the words of a field name: `apiKey`, `signing_key`,
 * `executorToken`, `mnemonic`). Public identifiers such as `hotkey` are one word and stay visible. */
export const DEFAULT_SECRET_WORDS: readonly string[] = [
  'key',
  'keys',
  'keypair',
  'secret',
  'secrets',
  'token',
  'tokens',
  'mnemonic',
  'seed',
  'signature',
  'signatures',
  'password',
  'passphrase',
  'pass',
  'pwd',
  'private',
  'credential',
  'credentials',
  'authorization',
  'cookie',
];
