import type { StatusRecord } from './jobStore';

/** A listener of one job's new statuses. */
export type StatusListener = (record: StatusRecord) => void;

/**
 * In-process fan-out of stored statuses to the SSE streams following a job. Listeners are called synchronously
 * after the status is committed; one that throws is logged by the caller's `onError` and the others still run.
 *
 * @example
 * ```ts
 * const off = events.subscribe(uuid, (record) => stream.write(record));
 * events.publish(uuid, record);
 * off();
 * ```
 */
export class JobEvents {
  private readonly listeners = new Map<string, Set<StatusListener>>();

  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  subscribe(uuid: string, listener: StatusListener): () => void {
    let set = this.listeners.get(uuid);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(uuid, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(uuid);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(uuid);
    };
  }

  publish(uuid: string, record: StatusRecord): void {
    const set = this.listeners.get(uuid);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(record);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /** Jobs with at least one listener. */
  get size(): number {
    return this.listeners.size;
  }
}
