import type { Random } from '../../util/clock';
import { VOLUME_DOWNLOAD_RETRY_BASE_MS, VOLUME_DOWNLOAD_RETRY_JITTER, UPLOAD_RETRY_BASE_MS } from './defaults';

/** Pure retry decisions of downloads and uploads (table-tested; the effect modules only sleep what these say). */

/**
 * Delay before download retry number `retry` (1-based): `base × 2^(retry−1) × (1 + U(0, jitter))`, i.e. about
 * 1, 2, 4 s with the defaults.
 *
 * @example
 * ```ts
 * downloadRetryDelayMs(3, () => 0.5); // 4000 × 1.05 = 4200
 * ```
 */
export function downloadRetryDelayMs(
  retry: number,
  random: Random,
  baseMs: number = VOLUME_DOWNLOAD_RETRY_BASE_MS,
  jitter: number = VOLUME_DOWNLOAD_RETRY_JITTER,
): number {
  return Math.round(baseMs * Math.pow(2, Math.max(0, retry - 1)) * (1 + random() * jitter));
}

/** Delay after failed upload attempt number `attempt` (1-based): 1 s, 2 s, … (upstream's `retry` decorator, no jitter). */
export function uploadRetryDelayMs(attempt: number, baseMs: number = UPLOAD_RETRY_BASE_MS): number {
  return baseMs * Math.pow(2, Math.max(0, attempt - 1));
}

/**
 * Whether an HTTP status is worth another attempt: server errors, 408 and 429. Upstream retries every non-2xx
 * status (httpx `raise_for_status` inside its retry loop); Horde fails a 403 or 404 at once, because a presigned URL
 * that is refused or a file that is not there will not change within seconds.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
