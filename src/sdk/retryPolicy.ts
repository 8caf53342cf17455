/**
 * The SDK's pure retry decisions: which HTTP outcomes are worth another attempt, and how long to wait first.
 */
import type { Random } from '../util/clock';
import { SDK_HTTP_MAX_ATTEMPTS, SDK_HTTP_RETRY_MAX_DELAY_MS, SDK_HTTP_RETRY_MIN_DELAY_MS } from './defaults';

/** What one HTTP attempt gave: a response with a status, or no response at all. */
export type HttpAttemptOutcome = { readonly kind: 'response'; readonly status: number } | { readonly kind: 'network' };

/**
 * Upstream's `_retryable_status_code` plus transport errors: 429 and 5xx are the facilitator saying "later", a
 * network error may be a restart. Every other status is an answer, and asking again would get the same one.
 */
export function isRetryableOutcome(outcome: HttpAttemptOutcome): boolean {
  if (outcome.kind === 'network') return true;
  return outcome.status === 429 || outcome.status >= 500;
}

/**
 * Wait before attempt `attempt + 1` after failed attempt `attempt` (1-based): full jitter over an exponentially
 * growing window, never below the minimum (a facilitator that just restarted needs a moment) nor above the maximum.
 *
 * @example
 * ```ts
 * httpRetryDelayMs(1, () => 0); // 200
 * httpRetryDelayMs(10, () => 0.999999); // 4999
 * ```
 */
export function httpRetryDelayMs(
  attempt: number,
  random: Random,
  minDelayMs: number = SDK_HTTP_RETRY_MIN_DELAY_MS,
  maxDelayMs: number = SDK_HTTP_RETRY_MAX_DELAY_MS,
): number {
  const exponent = Math.max(0, Math.min(attempt, 30));
  const window = Math.min(maxDelayMs - minDelayMs, minDelayMs * 2 ** exponent);
  return minDelayMs + Math.floor(random() * window);
}

/** Whether failed attempt `attempt` (1-based) with `outcome` gets another one. */
export function shouldRetry(outcome: HttpAttemptOutcome, attempt: number, maxAttempts: number = SDK_HTTP_MAX_ATTEMPTS): boolean {
  return attempt < maxAttempts && isRetryableOutcome(outcome);
}
