/**
 * One task group child, wrapped: the group spawns this machine per child, and it runs the child's own logic as its
 * `task` child. The wrapper gives every kind of logic the same contract: a per-child timeout that stops the task,
 * a result record as output (it never errors: the task's error becomes `status: 'failed'`), and barrier events
 * relayed in both directions with the child's id added, so tasks send a plain `{ type: 'taskGroup.barrier.arrive',
 * name }`.
 *
 * Stopping the wrapper stops the task (a promise task's AbortSignal fires); reaching a final state does the same,
 * and also cancels the timeout timer.
 */
import { assign, sendParent, sendTo, setup, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { TaskGroupInternalError, TaskTimeoutError } from './errors';
import type { BarrierArriveEvent, BarrierReleaseEvent, TaskDoneEvent, TaskFailedEvent, TaskResult } from './types';

export interface TaskGroupChildInput {
  readonly id: string;
  readonly logic: AnyActorLogic;
  readonly input: unknown;
  readonly timeoutMs: number | undefined;
}

/** Sent by the wrapper to the group when its task arrives at a barrier. Internal to the task group. */
export interface ChildArrivedEvent {
  readonly type: 'taskGroup.child.arrived';
  readonly childId: string;
  readonly name: string;
}

type WrapperEvent =
  | BarrierArriveEvent
  | BarrierReleaseEvent
  | TaskDoneEvent
  | TaskFailedEvent
  | { readonly type: 'xstate.done.actor.task'; readonly output: unknown }
  | { readonly type: 'xstate.error.actor.task'; readonly error: unknown };

interface WrapperContext {
  readonly id: string;
  readonly logic: AnyActorLogic;
  readonly taskInput: unknown;
  readonly timeoutMs: number | undefined;
  readonly task: AnyActorRef | undefined;
  readonly result: TaskResult | undefined;
}

export const taskGroupChildMachine = setup({
  types: {
    input: {} as TaskGroupChildInput,
    context: {} as WrapperContext,
    events: {} as WrapperEvent,
    output: {} as TaskResult,
  },
  guards: {
    hasTimeout: ({ context }) => context.timeoutMs !== undefined,
  },
  delays: {
    taskTimeout: ({ context }) => context.timeoutMs ?? 0,
  },
}).createMachine({
  id: 'taskGroupChild',
  context: ({ input }) => ({
    id: input.id,
    logic: input.logic,
    taskInput: input.input,
    timeoutMs: input.timeoutMs,
    task: undefined,
    result: undefined,
  }),
  initial: 'running',
  states: {
    /** The task runs; its outcome, a timeout, or a stop from the group ends this state. */
    running: {
      entry: assign({
        // XState types an `id` only for logic registered in `setup({ actors })`; the task's logic is only known
        // at run time, so the options are widened (the runtime honours the id, and `xstate.done.actor.task` below
        // depends on it).
        task: ({ context, spawn }) => spawn(context.logic, { id: 'task', input: context.taskInput } as { input: unknown }),
      }),
      initial: 'arming',
      states: {
        /** Picks whether a timeout applies (a transient state). */
        arming: { always: [{ guard: 'hasTimeout', target: 'bounded' }, { target: 'unbounded' }] },
        /** Timed: the timer stops the task when it fires. */
        bounded: { after: { taskTimeout: { target: '#taskGroupChild.timedOut' } } },
        /** Bounded only by the group's deadline. */
        unbounded: {},
      },
      on: {
        'xstate.done.actor.task': {
          target: 'settled',
          actions: assign({ result: ({ context, event }) => ({ id: context.id, status: 'done', output: event.output }) }),
        },
        'taskGroup.task.done': {
          target: 'settled',
          actions: assign({ result: ({ context, event }) => ({ id: context.id, status: 'done', output: event.output }) }),
        },
        'xstate.error.actor.task': {
          target: 'settled',
          actions: assign({ result: ({ context, event }) => ({ id: context.id, status: 'failed', error: event.error }) }),
        },
        'taskGroup.task.failed': {
          target: 'settled',
          actions: assign({ result: ({ context, event }) => ({ id: context.id, status: 'failed', error: event.error }) }),
        },
        'taskGroup.barrier.arrive': {
          actions: sendParent(({ context, event }) => ({
            type: 'taskGroup.child.arrived',
            childId: context.id,
            name: event.name,
          })),
        },
        'taskGroup.barrier.release': { actions: sendTo('task', ({ event }) => event) },
      },
    },
    /** The timeout fired; the task is stopped on the way out. */
    timedOut: {
      type: 'final',
      entry: assign({
        result: ({ context }) => ({
          id: context.id,
          status: 'timed_out',
          error: new TaskTimeoutError(context.id, context.timeoutMs ?? 0),
        }),
      }),
    },
    /** The task finished or failed on its own. */
    settled: { type: 'final' },
  },
  output: ({ context }) =>
    context.result ?? {
      id: context.id,
      status: 'failed',
      error: new TaskGroupInternalError(`task group child '${context.id}' ended without a result`),
    },
});
