/**
 * The receipt store's lifecycle around its worker (the FIFO that verifies, countersigns and stores receipts, see
 * `src/actors/miner/receiptStore.actor.ts`): serving → flushing (asked to stop: the work already queued is finished)
 * → stopped. Requests are forwarded to the worker unchanged, also while flushing.
 */
import { forwardTo, fromCallback, sendTo, setup, type EventObject } from 'xstate';
import type { ReceiptStoreActorInput, ReceiptStoreEvent } from '../actors/miner/receiptStore.actor';

/** Events of the store (its requests are the worker's; see `ReceiptStoreEvent`). */
export type ReceiptStoreMachineEvent =
  | ReceiptStoreEvent
  /** The supervisor's stop protocol: finish the queue, then stop. */
  | { readonly type: 'supervisor.shutdown' }
  /** From the worker: the queue is empty after `receipts.flush`. */
  | { readonly type: 'receipts.idle' };

/** Sent to the worker when the store must stop: report `receipts.idle` once the queue is empty. */
export const FLUSH_EVENT = { type: 'receipts.flush' } as const;

/**
 * The receipt store machine; provide `worker` (the real one is `receiptWorkerLogic`).
 *
 * @example
 * ```ts
 * const logic = receiptStoreMachine.provide({ actors: { worker: receiptWorkerLogic } });
 * ```
 */
export const receiptStoreMachine = setup({
  types: {
    // The worker's input is passed through untouched.
    input: {} as ReceiptStoreActorInput,
    context: {} as { readonly workerInput: ReceiptStoreActorInput },
    events: {} as ReceiptStoreMachineEvent,
  },
  actors: {
    worker: fromCallback<EventObject, ReceiptStoreActorInput>(() => {
      throw new Error('receiptStoreMachine: actor "worker" is not provided');
    }),
  },
}).createMachine({
  id: 'receiptStore',
  context: ({ input }) => ({ workerInput: input }),
  invoke: { id: 'worker', src: 'worker', input: ({ context }) => context.workerInput },
  initial: 'serving',
  states: {
    // Requests go to the worker, which handles them one at a time.
    serving: {
      on: {
        'receipts.submit': { actions: forwardTo('worker') },
        'receipts.find_excuses': { actions: forwardTo('worker') },
        'supervisor.shutdown': 'flushing',
      },
    },
    // Stopping: the worker finishes what is queued (late requests are still queued), then says it is idle.
    flushing: {
      entry: sendTo('worker', FLUSH_EVENT),
      on: {
        'receipts.submit': { actions: forwardTo('worker') },
        'receipts.find_excuses': { actions: forwardTo('worker') },
        'receipts.idle': 'stopped',
      },
    },
    // Nothing queued. Final.
    stopped: { type: 'final' },
  },
});

type StoreLogic = typeof receiptStoreMachine;
type StoreSnapshot = ReturnType<StoreLogic['getInitialSnapshot']>;
type StoreScope = Parameters<StoreLogic['transition']>[2];

/**
 * The store machine with a fast path, in the spirit of the transport's `withFastSend`: a request
 * (`receipts.submit`, `receipts.find_excuses`) reaching a serving or flushing store is handed to the worker at once,
 * skipping XState's macrostep, and the snapshot is returned unchanged. In both states the machine's own transition
 * for them is targetless and context-free and does exactly this (`forwardTo('worker')`), synchronously too, so order
 * is kept. Every other event goes through the machine.
 *
 * Why: every initial request submits its JobStarted receipt; on the miner's one event loop each macrostep saved comes
 * off the later accepts of a burst (`bench/miner.ts`).
 *
 * @example
 * ```ts
 * const logic = withFastForward(receiptStoreMachine.provide({ actors: { worker: receiptWorkerLogic } }));
 * ```
 */
export function withFastForward(machine: StoreLogic): StoreLogic {
  const fast = Object.create(machine) as StoreLogic;
  fast.transition = (snapshot: StoreSnapshot, event: ReceiptStoreMachineEvent, scope: StoreScope): StoreSnapshot => {
    if (
      (event.type === 'receipts.submit' || event.type === 'receipts.find_excuses') &&
      snapshot.status === 'active' &&
      (snapshot.value === 'serving' || snapshot.value === 'flushing')
    ) {
      const worker = (snapshot.children as Record<string, { send(event: EventObject): void } | undefined>)['worker'];
      if (worker !== undefined) {
        worker.send(event);
        return snapshot;
      }
    }
    return machine.transition(snapshot, event, scope);
  };
  fast.provide = (implementations) => withFastForward(machine.provide(implementations));
  return fast;
}
