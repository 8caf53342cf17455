import { ConcurrencyQueueFullError, ExecutorAbortedError } from './errors';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A counting semaphore with a bounded wait queue (overflow policy: reject the newcomer with
 * `executor.concurrency_queue_full`) and abortable waits. It bounds concurrent downloads and uploads per process, as
 * upstream's class-level `asyncio.Semaphore(3)` does.
 *
 * @example
 * ```ts
 * const slots = new Semaphore('downloads', 3, 256);
 * await slots.use(signal, () => download(url));
 * ```
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Waiter[] = [];
  private rejectedCount = 0;

  constructor(
    readonly name: string,
    readonly capacity: number,
    readonly maxWaiters: number,
  ) {
    this.available = capacity;
  }

  /** Slots currently held. */
  get inUse(): number {
    return this.capacity - this.available;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Callers turned away because the wait queue was full, since creation. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** Waits for a slot; the returned function releases it (call it exactly once). */
  async acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw new ExecutorAbortedError(`waiting for a ${this.name} slot`, { cause: signal.reason });
    if (this.available > 0) {
      this.available--;
      return this.releaser();
    }
    if (this.waiters.length >= this.maxWaiters) {
      this.rejectedCount++;
      throw new ConcurrencyQueueFullError(this.name, this.maxWaiters);
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new ExecutorAbortedError(`waiting for a ${this.name} slot`, { cause: signal.reason }));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return this.releaser();
  }

  /** Runs `work` while holding a slot. */
  async use<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the slot straight to the next waiter so that a newcomer cannot overtake the queue.
      const next = this.waiters.shift();
      if (next) next.resolve();
      else this.available++;
    };
  }
}
