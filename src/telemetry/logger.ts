/**
 * Structured JSON-lines logging: one JSON object per line with `ts` (ISO), `level`, `msg`, `component`, then the
 * fields. Field names are written in snake_case (`jobUuid` → `job_uuid`) so that every role's lines can be queried
 * with the same names. Logging never throws: circular values, throwing getters and huge strings degrade to
 * placeholders instead of taking the caller down.
 */
import { setting } from '../config/settings';
import type { Clock } from '../util/clock';
import { systemClock } from '../util/clock';
import { DEFAULT_SECRET_WORDS, REDACTED } from './defaults';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** A threshold: the lowest level written, or `silent` for none. */
export type LogThreshold = LogLevel | 'silent';

/** Levels from lowest to highest. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Environment variable holding the threshold (`debug|info|warn|error|silent`). */
export const LOG_LEVEL_ENV = 'HORDE_LOG_LEVEL';

/** Threshold when neither an option nor `HORDE_LOG_LEVEL` sets one. `debug` is per-message and floods a busy miner. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Characters kept of one string field; the rest is replaced by a count. Bounds a line when a job dumps its stdout. */
export const LOG_MAX_STRING_CHARS = 8_192;

/** Nesting depth serialised; deeper values become `[depth]`. */
export const LOG_MAX_DEPTH = 6;

/** Items kept of one array (or Map/Set) field; a `…` marker counts the rest. */
export const LOG_MAX_ARRAY_ITEMS = 100;

/** Bytes of a binary field shown as hex; longer buffers show only their length. */
export const LOG_MAX_HEX_BYTES = 64;

/** Writes one complete line (without the trailing newline). */
export type LogSink = (line: string) => void;

/** Fields attached to a line or bound to a child logger. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The default sink: standard error, so standard output stays free for a command's real output. */
export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

export interface Logger {
  readonly component: string;
  readonly level: LogThreshold;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** Whether a line at `level` would be written (to skip building costly fields). */
  isEnabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line (and may rename the component); the parent is unchanged. */
  child(fields: LogFields, options?: { readonly component?: string }): Logger;
}

export interface LoggerOptions {
  /** Which part of the system writes (`miner.validator_session`). */
  readonly component: string;
  /** @default logLevelFromEnv() */
  readonly level?: LogThreshold;
  /** @default stderrSink */
  readonly sink?: LogSink;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Fields on every line. */
  readonly fields?: LogFields;
  /** Replace values of secret-looking fields (`token`, `secretSeed`, `signature`...) with `[redacted]`. @default true */
  readonly redact?: boolean;
}

/** Parses a threshold name (case-insensitive); `undefined` for anything else. */
export function parseLogLevel(text: string | undefined): LogThreshold | undefined {
  const word = text?.trim().toLowerCase();
  if (word === 'silent') return 'silent';
  return LOG_LEVELS.find((level) => level === word);
}

/** The threshold `HORDE_LOG_LEVEL` asks for, or `DEFAULT_LOG_LEVEL` when it is unset or not a level name. */
export function logLevelFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): LogThreshold {
  return parseLogLevel(env[LOG_LEVEL_ENV]) ?? DEFAULT_LOG_LEVEL;
}

/**
 * The log-level setting every role includes in its definitions, so `--log-level`, `HORDE_LOG_LEVEL` and the config
 * file's `logLevel` all work the same way everywhere.
 *
 * @example
 * ```ts
 * const minerSettings = defineSettings({ logLevel: logLevelSetting, port: setting.int({ ... }) });
 * const log = createLogger({ component: 'miner', level: config.logLevel });
 * ```
 */
export const logLevelSetting = setting.oneOf(['debug', 'info', 'warn', 'error', 'silent'], {
  doc: 'Lowest level of log line written to stderr (silent: none). debug is verbose enough to slow a busy node.',
  env: LOG_LEVEL_ENV,
  default: DEFAULT_LOG_LEVEL,
});

const RANK: Readonly<Record<LogThreshold, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const CORE_KEYS = new Set(['ts', 'level', 'msg', 'component']);

/** `jobUuid` → `job_uuid`, `HTTPStatus` → `http_status`, `x-horde-session` → `x_horde_session`. */
export function snakeCase(key: string): string {
  return key
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]+/g, '_')
    .toLowerCase();
}

const SECRET_WORDS = new Set(DEFAULT_SECRET_WORDS);

function isSecretKey(key: string): boolean {
  return snakeCase(key)
    .split('_')
    .some((word) => SECRET_WORDS.has(word));
}

interface SerializeContext {
  readonly redact: boolean;
  readonly seen: WeakSet<object>;
}

/** Turns any value into plain JSON data, bounded in size, never throwing. */
function toJsonValue(value: unknown, context: SerializeContext, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > LOG_MAX_STRING_CHARS
        ? `${value.slice(0, LOG_MAX_STRING_CHARS)}…[+${value.length - LOG_MAX_STRING_CHARS} chars]`
        : value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return undefined;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (context.seen.has(object)) return '[circular]';
  if (depth >= LOG_MAX_DEPTH) return '[depth]';
  context.seen.add(object);
  try {
    return objectToJson(object, context, depth);
  } catch (error) {
    return `[unserializable: ${error instanceof Error ? error.message : String(error)}]`;
  } finally {
    context.seen.delete(object);
  }
}

function objectToJson(object: object, context: SerializeContext, depth: number): unknown {
  if (object instanceof Error) return serializeError(object, context, depth);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Uint8Array) {
    return object.length <= LOG_MAX_HEX_BYTES ? `0x${Buffer.from(object).toString('hex')}` : `[${object.length} bytes]`;
  }
  if (Array.isArray(object) || object instanceof Set) return listToJson([...(object as Iterable<unknown>)], context, depth);
  if (!(object instanceof Map) && typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return toJsonValue((object as { toJSON: () => unknown }).toJSON(), context, depth + 1);
  }
  const entries: Array<[string, unknown]> =
    object instanceof Map
      ? [...(object as Map<unknown, unknown>).entries()].map(([k, v]) => [String(k), v])
      : Object.entries(object);
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, item] of entries) {
    if (kept >= LOG_MAX_ARRAY_ITEMS) {
      out['…'] = `${entries.length - kept} more keys`;
      break;
    }
    out[key] = context.redact && isSecretKey(key) ? REDACTED : toJsonValue(item, context, depth + 1);
    kept++;
  }
  return out;
}

function listToJson(items: readonly unknown[], context: SerializeContext, depth: number): unknown[] {
  const kept = items.slice(0, LOG_MAX_ARRAY_ITEMS).map((item) => toJsonValue(item, context, depth + 1) ?? null);
  if (items.length > LOG_MAX_ARRAY_ITEMS) kept.push(`… ${items.length - LOG_MAX_ARRAY_ITEMS} more`);
  return kept;
}

function serializeError(error: Error, context: SerializeContext, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out['code'] = toJsonValue(code, context, depth + 1);
  if (error.stack !== undefined) out['stack'] = toJsonValue(error.stack, context, depth + 1);
  if (error.cause !== undefined) out['cause'] = toJsonValue(error.cause, context, depth + 1);
  if (error instanceof AggregateError) out['errors'] = listToJson(error.errors, context, depth);
  return out;
}

/** Serialises top-level fields: snake_case keys, core names protected, secrets redacted. */
function serializeFields(fields: LogFields, redact: boolean, into: Record<string, unknown>): void {
  const context: SerializeContext = { redact, seen: new WeakSet() };
  for (const [rawKey, value] of Object.entries(fields)) {
    let key = snakeCase(rawKey);
    if (CORE_KEYS.has(key)) key = `field_${key}`;
    into[key] = redact && isSecretKey(rawKey) ? REDACTED : toJsonValue(value, context, 1);
  }
}

interface Shared {
  readonly threshold: number;
  readonly level: LogThreshold;
  readonly sink: LogSink;
  readonly clock: Clock;
  readonly redact: boolean;
}

class JsonLogger implements Logger {
  constructor(
    private readonly shared: Shared,
    readonly component: string,
    /** Already serialised, so a child pays for its bound fields once, not per line. */
    private readonly bound: Readonly<Record<string, unknown>>,
  ) {}

  get level(): LogThreshold {
    return this.shared.level;
  }

  isEnabled(level: LogLevel): boolean {
    return RANK[level] >= this.shared.threshold;
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.shared.threshold) return;
    let line: string;
    try {
      const record: Record<string, unknown> = {
        ts: new Date(this.shared.clock.nowMs()).toISOString(),
        level,
        msg: String(msg),
        component: this.component,
        ...this.bound,
      };
      if (fields !== undefined) serializeFields(fields, this.shared.redact, record);
      line = JSON.stringify(record);
    } catch (error) {
      // only a broken clock or a hostile `msg` gets here; still write something a human can find
      line = JSON.stringify({
        ts: safeTimestamp(this.shared.clock),
        level,
        msg: safeString(msg),
        component: this.component,
        log_error: error instanceof Error ? error.message : safeString(error),
      });
    }
    try {
      this.shared.sink(line);
    } catch {
      // a failing sink (closed stderr, full disk) has nowhere left to report to; dropping the line keeps the
      // caller running, which matters more than one log line
    }
  }

  child(fields: LogFields, options: { readonly component?: string } = {}): Logger {
    const bound: Record<string, unknown> = { ...this.bound };
    try {
      serializeFields(fields, this.shared.redact, bound);
    } catch (error) {
      bound['log_error'] = error instanceof Error ? error.message : safeString(error);
    }
    return new JsonLogger(this.shared, options.component ?? this.component, bound);
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

function safeTimestamp(clock: Clock): string {
  try {
    return new Date(clock.nowMs()).toISOString();
  } catch {
    return new Date(0).toISOString();
  }
}

/**
 * Creates a root logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ component: 'miner' });
 * const jobLog = log.child({ jobUuid }); // every line carries "job_uuid"
 * jobLog.warn('executor disconnected', { error });
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? logLevelFromEnv();
  const shared: Shared = {
    threshold: RANK[level],
    level,
    sink: options.sink ?? stderrSink,
    clock: options.clock ?? systemClock,
    redact: options.redact ?? true,
  };
  const root = new JsonLogger(shared, options.component, {});
  return options.fields === undefined ? root : root.child(options.fields);
}

/** A logger that writes nothing (for code paths that take an optional logger). */
export const silentLogger: Logger = createLogger({ component: 'silent', level: 'silent', sink: () => undefined });

/** A bounded in-memory sink for tests and diagnostics: keeps the newest `capacity` lines and counts the rest. */
export interface MemorySink {
  readonly sink: LogSink;
  /** Lines kept, oldest first. */
  readonly lines: readonly string[];
  /** Kept lines parsed back into objects. */
  records(): Array<Record<string, unknown>>;
  /** Lines dropped because the buffer was full (oldest first). */
  readonly dropped: number;
  clear(): void;
}

/** Lines a `memorySink()` keeps by default. */
export const DEFAULT_MEMORY_SINK_LINES = 10_000;

/**
 * A sink that keeps lines in memory, dropping the oldest beyond `capacity`.
 *
 * @example
 * ```ts
 * const memory = memorySink();
 * const log = createLogger({ component: 'test', sink: memory.sink, level: 'debug' });
 * log.info('hello');
 * memory.records()[0].msg; // 'hello'
 * ```
 */
export function memorySink(capacity = DEFAULT_MEMORY_SINK_LINES): MemorySink {
  const lines: string[] = [];
  let dropped = 0;
  return {
    sink: (line) => {
      lines.push(line);
      if (lines.length > capacity) {
        lines.shift();
        dropped++;
      }
    },
    get lines() {
      return lines;
    },
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    get dropped() {
      return dropped;
    },
    clear: () => {
      lines.length = 0;
      dropped = 0;
    },
  };
}
