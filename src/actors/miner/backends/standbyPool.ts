/**
 * Warm standby executors: a small pool of processes started before any job needs them, so that a job skips the
 * process start (module loading is most of an executor's spin-up). The pool is generic over what a standby is; the
 * child-process backend gives it real processes, the tests give it fakes and a manual timer.
 */
import { fullJitterDelayMs, type BackoffPolicy } from '../../../util/backoff';
import type { Clock, Random } from '../../../util/clock';

/**
 * Consecutive start failures after a standby ended untaken. One that lived at least `stableAfterMs` did start (it was
 * killed or crashed later), so a new run of failures begins at 1; a quicker end adds to the current run.
 */
export function failuresAfterEnd(previousFailures: number, lifetimeMs: number, stableAfterMs: number): number {
  return lifetimeMs >= stableAfterMs ? 1 : previousFailures + 1;
}

/**
 * How long to wait before starting a replacement: at once without failures, otherwise a full-jitter backoff over the
 * run of failures (bounded by `policy.capMs`, never below `minMs`, so that even an unlucky draw is no tight loop).
 */
export function replacementDelayMs(failures: number, policy: BackoffPolicy, minMs: number, random: Random): number {
  if (failures <= 0) return 0;
  return Math.max(minMs, fullJitterDelayMs(policy, failures, random));
}

/** Timers, injected so that tests drive time by hand. */
export interface PoolTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The effects a pool needs from its owner. */
export interface StandbyEffects<S> {
  /**
   * Starts one standby and calls `onEnded` once when it ends by itself (exit, spawn error). Throws when it cannot
   * even be started (the pool counts that as a failure).
   */
  start(onEnded: () => void): S;
  /** Ends a standby the pool no longer wants (the pool is closing). Resolves once it is gone; never rejects. */
  dismiss(standby: S): Promise<void>;
  /** Ends a standby now, synchronously (process exit). */
  killSync(standby: S): void;
  /** A standby failed to start or ended before it was taken. */
  onFailure(failures: number, delayMs: number): void;
}

export interface StandbyPoolOptions<S> {
  /** How many standbys to keep ready (0: none; `take` always returns undefined). */
  readonly size: number;
  readonly effects: StandbyEffects<S>;
  readonly backoff: BackoffPolicy;
  /** Smallest delay before a replacement after a failure. */
  readonly minRetryDelayMs: number;
  /** A standby that lived this long before ending did start: its end begins a new run of failures. */
  readonly stableAfterMs: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly timers: PoolTimers;
  /**
   * After a `take`, how long to wait before starting a replacement (0: at once). Standbys that come back after their
   * job ({@link StandbyPool.giveBack}) make a replacement unneeded when jobs are short, and a replacement started at
   * once would load its modules while the taken one's job starts its container, on the same cores.
   * @default 0
   */
  readonly refillDelayMs?: number;
}

/**
 * Keeps `size` standbys started. `take()` hands one out (it is no longer the pool's: the caller owns its lifecycle)
 * and starts a replacement, at once or after `refillDelayMs`; `giveBack()` returns a standby that can serve another
 * job. A standby that ends untaken is replaced after a backoff delay.
 *
 * @example
 * ```ts
 * const pool = new StandbyPool({ size: 1, effects, backoff, minRetryDelayMs: 100, stableAfterMs: 5_000, clock, random, timers });
 * pool.fill();
 * const standby = pool.take(); // undefined when none is ready: start one cold
 * await pool.close();
 * ```
 */
export class StandbyPool<S> {
  private readonly ready = new Map<S, number>();
  private failures = 0;
  private retryTimer: unknown;
  private refillTimer: unknown;
  private closed = false;

  constructor(private readonly options: StandbyPoolOptions<S>) {}

  /** Standbys started and not yet taken. */
  get readyCount(): number {
    return this.ready.size;
  }

  /** True while `standby` is ready in the pool (not taken, not ended). */
  holds(standby: S): boolean {
    return this.ready.has(standby);
  }

  /** The current run of consecutive start failures. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** True while a replacement waits for its backoff delay. */
  get retryPending(): boolean {
    return this.retryTimer !== undefined;
  }

  /** Starts standbys until `size` are ready, unless a backoff delay is running or the pool is closed. */
  fill(): void {
    while (!this.closed && this.retryTimer === undefined && this.ready.size < this.options.size) {
      if (!this.startOne()) return;
    }
  }

  /** Hands out the oldest ready standby (or undefined) and starts its replacement. */
  take(): S | undefined {
    if (this.closed) return undefined;
    const first = this.ready.keys().next();
    if (first.done === true) return undefined;
    this.ready.delete(first.value);
    // A standby that lasted until it was needed shows that starting works.
    this.failures = 0;
    const refillDelayMs = this.options.refillDelayMs ?? 0;
    if (refillDelayMs <= 0) this.fill();
    else {
      // Counted from the latest take: in a steady stream of short jobs the standby is back (and taken again) long
      // before, and a replacement loading its modules would only compete with those jobs.
      this.clearRefill();
      this.refillTimer = this.options.timers.setTimeout(() => {
        this.refillTimer = undefined;
        this.fill();
      }, refillDelayMs);
    }
    return first.value;
  }

  /**
   * Takes back a standby whose job is over and that waits for another one. Returns false when the pool does not want
   * it (closed, or already full): the caller dismisses it then.
   */
  giveBack(standby: S): boolean {
    if (this.closed || this.ready.size >= this.options.size || this.ready.has(standby)) return false;
    this.ready.set(standby, this.options.clock.nowMs());
    // Full again: the replacement the take armed is not needed.
    if (this.ready.size >= this.options.size) this.clearRefill();
    return true;
  }

  /** True while a replacement waits for the refill delay after a `take`. */
  get refillPending(): boolean {
    return this.refillTimer !== undefined;
  }

  /** Stops replacing and dismisses every ready standby. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearRetry();
    const standbys = [...this.ready.keys()];
    this.ready.clear();
    await Promise.all(standbys.map((standby) => this.options.effects.dismiss(standby)));
  }

  /** Synchronous last resort (process exit): kills every ready standby. */
  killAllSync(): void {
    this.closed = true;
    this.clearRetry();
    for (const standby of this.ready.keys()) this.options.effects.killSync(standby);
    this.ready.clear();
  }

  private startOne(): boolean {
    const startedAtMs = this.options.clock.nowMs();
    let standby: S;
    let endedEarly = false;
    let started = false;
    try {
      standby = this.options.effects.start(() => {
        if (!started) {
          endedEarly = true;
          return;
        }
        this.onEnded(standby, startedAtMs);
      });
    } catch {
      this.failed(0);
      return false;
    }
    started = true;
    if (endedEarly) {
      this.failed(0);
      return false;
    }
    this.ready.set(standby, startedAtMs);
    return true;
  }

  private onEnded(standby: S, startedAtMs: number): void {
    // Taken (no longer ours) or dismissed by close: not a failure.
    if (!this.ready.delete(standby) || this.closed) return;
    this.failed(this.options.clock.nowMs() - startedAtMs);
  }

  private failed(lifetimeMs: number): void {
    this.failures = failuresAfterEnd(this.failures, lifetimeMs, this.options.stableAfterMs);
    const delayMs = replacementDelayMs(this.failures, this.options.backoff, this.options.minRetryDelayMs, this.options.random);
    this.options.effects.onFailure(this.failures, delayMs);
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = this.options.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.fill();
    }, delayMs);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) this.options.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearRefill();
  }

  private clearRefill(): void {
    if (this.refillTimer !== undefined) this.options.timers.clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
  }
}
