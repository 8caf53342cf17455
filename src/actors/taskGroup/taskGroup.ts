/**
 * Wiring for the task group: the machine with its metrics hooks provided, and `runTaskGroup`, a promise-shaped
 * front door for effect code that wants a group's results without holding an actor.
 */
import { createActor } from 'xstate';
import type { Timers } from '../../resilience/retry';
import { taskGroupMetrics, type TaskGroupMetrics } from '../../resilience/metrics';
import { taskGroupMachine, type TaskGroupEmitted } from './taskGroup.machine';
import { TaskGroupInternalError } from './errors';
import type { TaskGroupInput, TaskGroupOutput } from './types';

/**
 * The task group machine recording `horde_taskgroup_children_total{outcome}`, `horde_taskgroup_child_duration_ms`
 * and `horde_taskgroup_duration_ms`. Use it wherever a group runs in production (invoke it, spawn it, or pass it to
 * `runTaskGroup`).
 *
 * @example
 * ```ts
 * const manifests = setup({ actors: { group: instrumentedTaskGroupMachine() } }).createMachine({ … });
 * ```
 */
export function instrumentedTaskGroupMachine(metrics: TaskGroupMetrics = taskGroupMetrics()): typeof taskGroupMachine {
  return taskGroupMachine.provide({
    actions: {
      recordChildSettled: (_, { outcome, durationMs }) => metrics.childSettled(outcome, durationMs),
      recordGroupFinished: (_, { reason, durationMs }) => metrics.groupFinished(reason, durationMs),
    },
  });
}

export interface RunTaskGroupOptions {
  /** Aborting cancels the group: the promise still resolves, with the children that had not settled `cancelled`. */
  readonly signal?: AbortSignal;
  /** XState's clock for the group's timers (a `SimulatedClock` in tests). Defaults to Node's timers. */
  readonly timers?: Timers;
  /** Defaults to the process-wide instruments. */
  readonly metrics?: TaskGroupMetrics;
  /** Told about every event the group emits (progress). Must not throw. */
  readonly onEvent?: (event: TaskGroupEmitted) => void;
}

/**
 * Runs a task group to completion and resolves with its output. Rejects only when the group itself fails (an
 * invalid input: `TaskGroupInputError`); children's failures are in the results.
 *
 * @example
 * ```ts
 * const { results } = await runTaskGroup({ children, childTimeoutMs: 30_000, concurrency: 50 }, { signal });
 * const failed = results.filter((r) => r.status !== 'done');
 * ```
 */
export function runTaskGroup(input: TaskGroupInput, options: RunTaskGroupOptions = {}): Promise<TaskGroupOutput> {
  const { signal, timers, onEvent } = options;
  return new Promise<TaskGroupOutput>((resolve, reject) => {
    const actor = createActor(instrumentedTaskGroupMachine(options.metrics), {
      input,
      ...(timers ? { clock: timers } : {}),
    });
    const onAbort = (): void => actor.send({ type: 'taskGroup.cancel' });
    actor.subscribe({
      complete: () => {
        signal?.removeEventListener('abort', onAbort);
        const output = actor.getSnapshot().output;
        if (output) resolve(output);
        else reject(new TaskGroupInternalError('task group completed without output'));
      },
      error: (error) => {
        signal?.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the actor's error, kept as is
        reject(error);
      },
    });
    if (onEvent) actor.on('*', (event) => onEvent(event));
    actor.start();
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
