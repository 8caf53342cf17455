/**
 * Test time for the resilience area: one SimulatedClock driving both XState timers and `Timers` users, a wall
 * `Clock` reading the same time, and a count of pending timers so that tests can assert "no timer left".
 */
import { SimulatedClock } from 'xstate';
import type { Timers } from '../../src/resilience/retry';
import type { Clock } from '../../src/util/clock';

export interface TestTime {
  /** Pass as `createActor(…, { clock })`. */
  readonly xstateClock: SimulatedClock;
  /** Pass as `timers` to `retrying()` / `runTaskGroup()`; counts what it schedules. */
  readonly timers: Timers & { readonly pending: number };
  /** Pass as `clock` (wall time) to breakers and groups. */
  readonly clock: Clock;
  /** Advances time, firing due timers, then lets promise continuations run. */
  advance(ms: number): Promise<void>;
}

/** Lets every queued promise continuation (and one macrotask turn) run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function testTime(): TestTime {
  const xstateClock = new SimulatedClock();
  const live = new Set<unknown>();
  const timers = {
    setTimeout(fn: () => void, timeoutMs: number): unknown {
      const handle: unknown = xstateClock.setTimeout(() => {
        live.delete(handle);
        fn();
      }, timeoutMs);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle: unknown): void {
      live.delete(handle);
      xstateClock.clearTimeout(handle as number);
    },
    get pending(): number {
      return live.size;
    },
  };
  return {
    xstateClock,
    timers,
    clock: { nowMs: () => xstateClock.now() },
    async advance(ms: number) {
      await flush();
      xstateClock.increment(ms);
      await flush();
    },
  };
}
