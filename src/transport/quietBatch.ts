/**
 * Work that can wait until a burst of inbound frames has been served. A server answering a burst of requests on one
 * event loop answers the last one only after everything the earlier ones did; work that is not part of the answer
 * (starting the job actor behind an accept, handing a receipt to the crypto thread) is cheaper for everyone when it
 * runs once the burst is over, batched. {@link QuietBatch} holds such work until the loop has gone `quietMs` without a
 * new item, but never longer than `maxDelayMs` after its first item (a steady stream never goes quiet).
 */
import { systemClock, type Clock } from '../util/clock';
import { toError } from '../util/errors';
import { QUIET_BATCH_DEFAULT_CAPACITY, QUIET_BATCH_DEFAULT_MAX_DELAY_MS, QUIET_BATCH_DEFAULT_QUIET_MS } from './defaults';

/** Timers of a {@link QuietBatch} (injected: tests drive them by hand). */
export interface QuietBatchTimers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** Node's own timers. */
export const nodeTimers: QuietBatchTimers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Options of {@link QuietBatch}. */
export interface QuietBatchOptions<T> {
  /** Runs a batch, items in the order they were pushed. An exception goes to `onError`. */
  readonly run: (batch: T[]) => void;
  /** Told when `run` throws (the batch is gone: `run` owns its items). */
  readonly onError: (error: Error) => void;
  readonly quietMs?: number;
  readonly maxDelayMs?: number;
  /** Items held at most; the push that reaches it runs the batch at once (nothing is dropped). */
  readonly capacity?: number;
  /** Measures `maxDelayMs`. */
  readonly clock?: Clock;
  readonly timers?: QuietBatchTimers;
}

/**
 * Holds items until the burst that produced them is over (see the module comment), then hands them all to `run`.
 *
 * @example
 * ```ts
 * const starts = new QuietBatch<JobStart>({ run: (batch) => batch.forEach(start), onError: (e) => logger.error(e.message) });
 * starts.push(job); // runs once no job was pushed for 5 ms (at most 100 ms after the first)
 * ```
 */
export class QuietBatch<T> {
  private items: T[] = [];
  private firstAtMs = 0;
  private pushedSinceArmed = false;
  private timer: unknown = undefined;
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  private readonly timers: QuietBatchTimers;

  constructor(private readonly options: QuietBatchOptions<T>) {
    this.quietMs = options.quietMs ?? QUIET_BATCH_DEFAULT_QUIET_MS;
    this.maxDelayMs = options.maxDelayMs ?? QUIET_BATCH_DEFAULT_MAX_DELAY_MS;
    this.capacity = options.capacity ?? QUIET_BATCH_DEFAULT_CAPACITY;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? nodeTimers;
  }

  /** Items waiting. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.capacity) {
      this.flush();
      return;
    }
    if (this.timer === undefined) {
      this.firstAtMs = this.clock.nowMs();
      this.pushedSinceArmed = false;
      this.timer = this.timers.set(this.check, this.quietMs);
    } else {
      this.pushedSinceArmed = true;
    }
  }

  /** Runs what is held now (e.g. on shutdown). */
  flush(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    try {
      this.options.run(batch);
    } catch (error) {
      this.options.onError(toError(error));
    }
  }

  private readonly check = (): void => {
    this.timer = undefined;
    // An item pushed since the timer was armed means the burst goes on: wait for a whole quiet window.
    if (this.pushedSinceArmed && this.clock.nowMs() - this.firstAtMs < this.maxDelayMs) {
      this.pushedSinceArmed = false;
      this.timer = this.timers.set(this.check, this.quietMs);
      return;
    }
    this.flush();
  };
}
