/**
 * Restart intensity, OTP's `add_restart/3` in milliseconds: a supervisor keeps the timestamps of its recent
 * restarts and gives up when one more would make more than `intensity` of them within `periodMs`.
 *
 * Pure: time is passed in. A restart exactly `periodMs` old still counts (OTP keeps `R >= Now - Period`).
 */

export interface RestartLimit {
  /** Restarts tolerated within the window. */
  readonly intensity: number;
  /** Length of the sliding window. */
  readonly periodMs: number;
}

/** The timestamps (ascending) still inside the window that ends at `nowMs`. */
export function restartsInWindow(timestamps: readonly number[], nowMs: number, periodMs: number): number[] {
  const thresholdMs = nowMs - periodMs;
  return timestamps.filter((t) => t >= thresholdMs);
}

export interface RestartRecord {
  /**
   * Timestamps to keep for next time, ascending, the new one last. At most `intensity + 1` are kept: older ones
   * cannot change a future verdict, so the list stays bounded even under a restart storm.
   */
  readonly timestamps: readonly number[];
  /** True when this restart is one too many: the supervisor must escalate instead of restarting. */
  readonly exceeded: boolean;
}

/**
 * Adds a restart at `nowMs` and tells whether the limit is now exceeded.
 *
 * @example
 * ```ts
 * recordRestart([0, 10_000], 20_000, { intensity: 2, periodMs: 30_000 }).exceeded; // true: 3 restarts in 30 s
 * recordRestart([0, 10_000], 31_000, { intensity: 2, periodMs: 30_000 }).exceeded; // false: 0 fell out
 * ```
 */
export function recordRestart(timestamps: readonly number[], nowMs: number, limit: RestartLimit): RestartRecord {
  const recent = restartsInWindow(timestamps, nowMs, limit.periodMs);
  recent.push(nowMs);
  const exceeded = recent.length > limit.intensity;
  const keep = Math.max(1, limit.intensity + 1);
  return { timestamps: recent.length > keep ? recent.slice(recent.length - keep) : recent, exceeded };
}
