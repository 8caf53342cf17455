import { fullJitterDelayMs, type BackoffPolicy } from '../util/backoff';
import type { Random } from '../util/clock';

/** What the transport knows when a connection attempt failed or an open connection was lost. */
export interface FailureState {
  /** Consecutive failures, this one included (reset only after a connection lived `minUptimeMs`). */
  readonly failures: number;
  /** `maxReconnectAttempts` (Infinity: no limit). */
  readonly maxReconnectAttempts: number;
  /** Whether the `giveUpAfterMs` deadline passed since the last stable connection. */
  readonly deadlinePassed: boolean;
}

/** Retry after `delayMs` (attempt `attempt`, 1-based), or give up and say which rule ran out. */
export type ReconnectDecision =
  | { readonly action: 'retry'; readonly attempt: number; readonly delayMs: number }
  | { readonly action: 'give_up'; readonly rule: 'attempts' | 'deadline' };

/**
 * The reconnect decision, pure: give up when the deadline passed or the failures exceed the attempt budget,
 * otherwise wait a full-jitter delay whose ceiling grows with the failure count.
 *
 * @example
 * ```ts
 * decideReconnect({ failures: 3, maxReconnectAttempts: 5, deadlinePassed: false }, policy, seededRandom(1));
 * // { action: 'retry', attempt: 3, delayMs: <uniform in [0, min(cap, base * 2^2)]> }
 * ```
 */
export function decideReconnect(state: FailureState, policy: BackoffPolicy, random: Random): ReconnectDecision {
  if (state.deadlinePassed) return { action: 'give_up', rule: 'deadline' };
  if (state.failures > state.maxReconnectAttempts) return { action: 'give_up', rule: 'attempts' };
  return { action: 'retry', attempt: state.failures, delayMs: fullJitterDelayMs(policy, state.failures, random) };
}
