import type { Random } from '../util/clock';
import { backoffCeilingMs, type BackoffPolicy } from '../util/backoff';
import type { RestartBackoff } from './policy';

/**
 * The ceiling of restart `attempt` (1-based): `min(maxMs, minMs * 2^attempt)`. With min 1 s and max 30 s the
 * ceilings run 2, 4, 8, 16, 30, 30 … s. Starting at twice the minimum gives even the first restart some jitter,
 * so siblings that fail together do not all come back in the same millisecond.
 */
export function restartCeilingMs(backoff: RestartBackoff, attempt: number): number {
  const policy: BackoffPolicy = { baseMs: backoff.minMs, capMs: backoff.maxMs, multiplier: 2 };
  return backoffCeilingMs(policy, Math.max(1, attempt) + 1);
}

/**
 * Full jitter between `minMs` and the ceiling: `minMs + floor(random() * (ceiling - minMs))`, so every delay is in
 * `[minMs, ceiling)` (exactly `minMs` when `minMs === maxMs`).
 *
 * @example
 * ```ts
 * restartDelayMs({ minMs: 1_000, maxMs: 30_000, resetAfterMs: 15_000 }, 3, () => 0.5); // 1000 + 3500 = 4500
 * ```
 */
export function restartDelayMs(backoff: RestartBackoff, attempt: number, random: Random): number {
  const ceilingMs = restartCeilingMs(backoff, attempt);
  return backoff.minMs + Math.floor(random() * (ceilingMs - backoff.minMs));
}

/**
 * The attempt number of a restart after a child ran for `ranForMs`: a child that stayed up for `resetAfterMs`
 * starts over at 1, otherwise the count goes on. The reset is decided when the child fails, so a healthy child
 * needs no timer of its own.
 */
export function nextRestartAttempt(previousAttempts: number, ranForMs: number, resetAfterMs: number): number {
  return ranForMs >= resetAfterMs ? 1 : previousAttempts + 1;
}
