import { createStore } from '@xstate/store';
import type { ExecutorClass } from '../../protocol/enums';

/** Slots of one executor class. */
export interface ClassOccupancy {
  readonly capacity: number;
  readonly held: number;
}

/** Every class's slots; a new object per change. */
export interface OccupancySnapshot {
  readonly classes: Readonly<Partial<Record<ExecutorClass, ClassOccupancy>>>;
  /** Slots held across all classes. */
  readonly held: number;
}

/**
 * The miner's pool occupancy: plain shared state (an `@xstate/store`) written by the pools and read by whoever needs
 * a picture of the whole miner (the `horde_miner_pool_slots` gauge, `/readyz`, the SIGTERM drain that waits for zero).
 *
 * @example
 * ```ts
 * const occupancy = createOccupancyStore();
 * occupancy.trigger.set({ executorClass: 'always_on.test', capacity: 2, held: 1 });
 * occupancy.getSnapshot().context.held; // 1
 * ```
 */
const EMPTY: OccupancySnapshot = { classes: {}, held: 0 };

export function createOccupancyStore() {
  return createStore({
    context: EMPTY,
    on: {
      set: (context, event: { executorClass: ExecutorClass; capacity: number; held: number }): OccupancySnapshot => {
        const classes = { ...context.classes, [event.executorClass]: { capacity: event.capacity, held: event.held } };
        let held = 0;
        for (const entry of Object.values(classes)) held += entry?.held ?? 0;
        return { classes, held };
      },
    },
  });
}

/** The occupancy store's type. */
export type OccupancyStore = ReturnType<typeof createOccupancyStore>;
