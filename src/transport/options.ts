import { backoffProblems, type BackoffPolicy } from '../util/backoff';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_GIVE_UP_AFTER_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_RECONNECT_ATTEMPTS,
  DEFAULT_MIN_UPTIME_MS,
  DEFAULT_OUTBOX_CAPACITY,
  DEFAULT_OUTBOX_OVERFLOW,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_RECONNECT_BASE_MS,
  DEFAULT_RECONNECT_CAP_MS,
  DEFAULT_RECONNECT_MULTIPLIER,
  DEFAULT_RELIABLE,
  DEFAULT_RELIABLE_WINDOW,
  DEFAULT_SEND_HIGH_WATER_MARK_BYTES,
} from './defaults';
import { InvalidTransportOptionsError } from './errors';
import type { OverflowPolicy } from './outbox';

/** Tuning of one transport actor; every field defaults to the constant of the same name in `defaults.ts`. */
export interface TransportOptions {
  /** {@link DEFAULT_RECONNECT_BASE_MS} */
  readonly reconnectBaseMs: number;
  /** {@link DEFAULT_RECONNECT_CAP_MS} */
  readonly reconnectCapMs: number;
  /** {@link DEFAULT_RECONNECT_MULTIPLIER} */
  readonly reconnectMultiplier: number;
  /** {@link DEFAULT_MAX_RECONNECT_ATTEMPTS} (Infinity allowed) */
  readonly maxReconnectAttempts: number;
  /** {@link DEFAULT_GIVE_UP_AFTER_MS} (Infinity allowed) */
  readonly giveUpAfterMs: number;
  /** {@link DEFAULT_CONNECT_TIMEOUT_MS} */
  readonly connectTimeoutMs: number;
  /** {@link DEFAULT_MIN_UPTIME_MS} */
  readonly minUptimeMs: number;
  /** {@link DEFAULT_PING_INTERVAL_MS} (0 disables the heartbeat) */
  readonly pingIntervalMs: number;
  /** {@link DEFAULT_PONG_TIMEOUT_MS} */
  readonly pongTimeoutMs: number;
  /** {@link DEFAULT_OUTBOX_CAPACITY} */
  readonly outboxCapacity: number;
  /** {@link DEFAULT_OUTBOX_OVERFLOW} */
  readonly outboxOverflow: OverflowPolicy;
  /** {@link DEFAULT_MAX_PAYLOAD_BYTES} */
  readonly maxPayloadBytes: number;
  /** {@link DEFAULT_SEND_HIGH_WATER_MARK_BYTES} */
  readonly sendHighWaterMarkBytes: number;
  /** {@link DEFAULT_CLOSE_TIMEOUT_MS} */
  readonly closeTimeoutMs: number;
  /** {@link DEFAULT_RELIABLE} */
  readonly reliable: boolean;
  /** {@link DEFAULT_RELIABLE_WINDOW} */
  readonly reliableWindow: number;
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  reconnectBaseMs: DEFAULT_RECONNECT_BASE_MS,
  reconnectCapMs: DEFAULT_RECONNECT_CAP_MS,
  reconnectMultiplier: DEFAULT_RECONNECT_MULTIPLIER,
  maxReconnectAttempts: DEFAULT_MAX_RECONNECT_ATTEMPTS,
  giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  minUptimeMs: DEFAULT_MIN_UPTIME_MS,
  pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
  pongTimeoutMs: DEFAULT_PONG_TIMEOUT_MS,
  outboxCapacity: DEFAULT_OUTBOX_CAPACITY,
  outboxOverflow: DEFAULT_OUTBOX_OVERFLOW,
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  sendHighWaterMarkBytes: DEFAULT_SEND_HIGH_WATER_MARK_BYTES,
  closeTimeoutMs: DEFAULT_CLOSE_TIMEOUT_MS,
  reliable: DEFAULT_RELIABLE,
  reliableWindow: DEFAULT_RELIABLE_WINDOW,
};

/** The backoff policy the options describe (for `fullJitterDelayMs`). */
export function reconnectPolicy(options: TransportOptions): BackoffPolicy {
  return { baseMs: options.reconnectBaseMs, capMs: options.reconnectCapMs, multiplier: options.reconnectMultiplier };
}

/** Longest delay a Node timer honours; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Every problem with `options`, as precise sentences (empty when they work). Timers must fit a Node timer. */
export function transportOptionsProblems(options: TransportOptions): string[] {
  const problems = backoffProblems(reconnectPolicy(options), 'reconnect');
  const positive = (name: keyof TransportOptions, allowInfinity = false): void => {
    const v = options[name] as number;
    const finiteOk = Number.isFinite(v) && v > 0 && v <= MAX_TIMER_MS;
    if (!(finiteOk || (allowInfinity && v === Number.POSITIVE_INFINITY))) {
      problems.push(`${name} must be a number in (0, ${MAX_TIMER_MS}]${allowInfinity ? ' or Infinity' : ''}, got ${String(v)}`);
    }
  };
  const integer = (name: keyof TransportOptions, min: number, allowInfinity = false): void => {
    const v = options[name] as number;
    if (!(Number.isInteger(v) || (allowInfinity && v === Number.POSITIVE_INFINITY)) || v < min) {
      problems.push(`${name} must be an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}, got ${String(v)}`);
    }
  };
  if (options.reconnectCapMs > MAX_TIMER_MS) problems.push(`reconnectCapMs must be <= ${MAX_TIMER_MS}`);
  integer('maxReconnectAttempts', 0, true);
  positive('giveUpAfterMs', true);
  positive('connectTimeoutMs');
  positive('minUptimeMs');
  if (!(Number.isFinite(options.pingIntervalMs) && options.pingIntervalMs >= 0 && options.pingIntervalMs <= MAX_TIMER_MS)) {
    problems.push(`pingIntervalMs must be a number in [0, ${MAX_TIMER_MS}] (0 disables the heartbeat), got ${options.pingIntervalMs}`);
  }
  positive('pongTimeoutMs');
  integer('outboxCapacity', 0);
  if (!['drop_oldest', 'drop_newest', 'fail'].includes(options.outboxOverflow)) {
    problems.push(`outboxOverflow must be drop_oldest, drop_newest or fail, got ${String(options.outboxOverflow)}`);
  }
  integer('maxPayloadBytes', 1);
  integer('sendHighWaterMarkBytes', 1);
  positive('closeTimeoutMs');
  integer('reliableWindow', 1);
  return problems;
}

/** Defaults merged with `overrides`, validated; throws {@link InvalidTransportOptionsError} listing every problem. */
export function resolveTransportOptions(overrides: Partial<TransportOptions> = {}): TransportOptions {
  const options: Record<string, unknown> = { ...DEFAULT_TRANSPORT_OPTIONS };
  for (const [key, value] of Object.entries(overrides)) {
    // an explicit `undefined` (an unset config value passed through) keeps the default
    if (value !== undefined) options[key] = value;
  }
  const resolved = options as unknown as TransportOptions;
  const problems = transportOptionsProblems(resolved);
  if (problems.length > 0) throw new InvalidTransportOptionsError(problems);
  return resolved;
}
