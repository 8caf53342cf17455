/**
 * `fromTask`: write a task group child as one async function that can wait at barriers.
 *
 * XState's promise actors cannot receive events (so they cannot be released from a barrier), and callback actors
 * cannot finish with an output. `fromTask` is a callback actor that runs an async function and reports its result
 * with `taskGroup.task.done` / `taskGroup.task.failed`, which the group's child wrapper understands.
 */
import { fromCallback, type CallbackActorLogic } from 'xstate';
import type { BarrierReleaseEvent, TaskToGroupEvent } from './types';

export interface TaskArgs<TInput> {
  readonly input: TInput;
  /** Aborted when the task is stopped (timeout, deadline, `fail_fast`, or the group stopping). Pass it to all IO. */
  readonly signal: AbortSignal;
  /**
   * Waits at barrier `name` until every live sibling has arrived (or settled without arriving). Rejects with the
   * signal's reason if the task is stopped while waiting.
   */
  readonly barrier: (name: string) => Promise<void>;
}

/**
 * Makes task group child logic from an async function. Its resolution is the child's output; its rejection the
 * child's error. Results that arrive after the task was stopped are ignored.
 *
 * @example
 * ```ts
 * const sendJob = fromTask<Receipt, { miner: MinerLink }>(async ({ input, signal, barrier }) => {
 *   await input.miner.prepare(signal);
 *   await barrier('start');            // every live sibling is prepared (or has failed)
 *   return input.miner.run(signal);
 * });
 * ```
 */
export function fromTask<TOutput, TInput = void>(
  run: (args: TaskArgs<TInput>) => Promise<TOutput>,
): CallbackActorLogic<BarrierReleaseEvent, TInput> {
  return fromCallback<BarrierReleaseEvent, TInput>(({ input, sendBack, receive }) => {
    const controller = new AbortController();
    const { signal } = controller;
    const waiters = new Map<string, Array<{ resolve: () => void; reject: (reason: unknown) => void }>>();
    const send = (event: TaskToGroupEvent): void => {
      if (!signal.aborted) sendBack(event);
    };

    receive((event) => {
      if (event.type !== 'taskGroup.barrier.release') return;
      const waiting = waiters.get(event.name) ?? [];
      waiters.delete(event.name);
      for (const waiter of waiting) waiter.resolve();
    });

    const barrier = (name: string): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason as Error);
          return;
        }
        const waiting = waiters.get(name) ?? [];
        waiting.push({ resolve, reject });
        waiters.set(name, waiting);
        send({ type: 'taskGroup.barrier.arrive', name });
      });

    let running: Promise<TOutput>;
    try {
      running = run({ input, signal, barrier });
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the task's own error, kept as thrown
      running = Promise.reject(error);
    }
    running.then(
      (output) => send({ type: 'taskGroup.task.done', output }),
      (error: unknown) => send({ type: 'taskGroup.task.failed', error }),
    );

    return () => {
      controller.abort();
      for (const waiting of waiters.values()) for (const waiter of waiting) waiter.reject(signal.reason);
      waiters.clear();
    };
  });
}
