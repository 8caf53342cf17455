import type { Random } from './clock';

/** Exponential backoff parameters, shared by the supervisor, the transport actor and retry policies. */
export interface BackoffPolicy {
  /** Upper bound of the first delay. */
  readonly baseMs: number;
  /** No delay exceeds this, however many attempts failed. */
  readonly capMs: number;
  /** Growth per attempt (2 doubles the ceiling each time). */
  readonly multiplier: number;
}

/**
 * The ceiling of attempt `attempt` (1-based): `min(capMs, baseMs * multiplier^(attempt-1))`.
 * Overflow-safe: a huge attempt number yields `capMs`, never `Infinity` or `NaN`.
 */
export function backoffCeilingMs(policy: BackoffPolicy, attempt: number): number {
  if (attempt <= 1) return Math.min(policy.capMs, policy.baseMs);
  const exponent = attempt - 1;
  const grown = policy.baseMs * Math.pow(policy.multiplier, exponent);
  return Number.isFinite(grown) ? Math.min(policy.capMs, grown) : policy.capMs;
}

/**
 * "Full jitter" (AWS architecture blog): a uniform draw in `[0, ceiling]`. It spreads a thundering herd of
 * reconnecting clients best of the common schemes, at the cost of sometimes retrying almost at once.
 *
 * @example
 * ```ts
 * const delayMs = fullJitterDelayMs({ baseMs: 1000, capMs: 30_000, multiplier: 2 }, attempt, systemRandom);
 * ```
 */
export function fullJitterDelayMs(policy: BackoffPolicy, attempt: number, random: Random): number {
  return Math.floor(random() * backoffCeilingMs(policy, attempt));
}

/** Validates a policy, returning a list of precise problems (empty when valid). */
export function backoffProblems(policy: BackoffPolicy, path = 'backoff'): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(policy.baseMs) || policy.baseMs < 0) problems.push(`${path}.baseMs must be a finite number >= 0`);
  if (!Number.isFinite(policy.capMs) || policy.capMs < policy.baseMs)
    problems.push(`${path}.capMs must be a finite number >= baseMs`);
  if (!Number.isFinite(policy.multiplier) || policy.multiplier < 1)
    problems.push(`${path}.multiplier must be a finite number >= 1`);
  return problems;
}
