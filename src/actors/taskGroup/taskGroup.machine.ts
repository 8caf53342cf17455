/**
 * A task group: N child actors run as one unit (upstream's scattered asyncio tasks plus its "task manager").
 *
 * - Each child is wrapped (taskGroupChild.machine.ts): per-child timeout, one result record, barrier relay.
 * - `isolate` keeps siblings running when one fails; `fail_fast` cancels them at the first failure or timeout.
 * - `deadlineMs` bounds the whole group; `concurrency` bounds how many children run at once.
 * - Barriers: a child sends `{ type: 'taskGroup.barrier.arrive', name }`; when every live child has arrived, each
 *   gets `{ type: 'taskGroup.barrier.release', name }`. A child that settles first no longer counts (barriers.ts).
 * - The group reaches its final state once every child has a result; its output is `TaskGroupOutput`.
 * - Stopping the group stops every child (their AbortSignals fire) and cancels every timer: XState stops children
 *   and scheduled events with their parent.
 *
 * Actor tree: group → `shard-<k>` (up to `TASKGROUP_SHARD_SIZE` children each, see taskGroupShard.machine.ts) →
 * one wrapper per child, with the child's own id → `task` (the child's logic). The decisions live in book.ts as pure
 * functions; this machine carries out their commands.
 *
 * @example
 * ```ts
 * const group = createActor(taskGroupMachine, { input: { children: miners.map((m) => ({ id: m.hotkey, logic: fetchManifest, input: m })),
 *   childTimeoutMs: 30_000, concurrency: 50 } });
 * group.subscribe({ complete: () => console.log(group.getSnapshot().output) });
 * group.start();
 * ```
 */
import { enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { TASKGROUP_SHARD_SIZE } from '../../resilience/defaults';
import { systemClock, type Clock } from '../../util/clock';
import {
  childArrived,
  childSettled,
  groupOutput,
  initialGroupBook,
  isFinished,
  isRunning,
  startChildren,
  stopGroup,
  type Decision,
  type GroupBook,
} from './book';
import type { CancelReason } from './errors';
import type { ChildArrivedEvent, TaskGroupChildInput } from './taskGroupChild.machine';
import { taskGroupShardMachine, type ChildSettledEvent, type ShardCommand } from './taskGroupShard.machine';
import {
  resolveTaskGroupInput,
  type FinishReason,
  type ResolvedTaskGroupInput,
  type TaskGroupInput,
  type TaskGroupOutput,
  type TaskResult,
} from './types';

/** Events the group accepts from outside. */
export type TaskGroupEvent =
  /** Stop every child now; they settle as `cancelled` and the group finishes with reason `cancelled`. */
  { readonly type: 'taskGroup.cancel' };

/** Events the group emits (`actor.on('taskGroup.child.settled', …)`). */
export type TaskGroupEmitted =
  | { readonly type: 'taskGroup.child.started'; readonly childId: string }
  | { readonly type: 'taskGroup.child.settled'; readonly result: TaskResult; readonly durationMs: number | undefined }
  | { readonly type: 'taskGroup.barrier.released'; readonly name: string; readonly childIds: readonly string[] }
  | { readonly type: 'taskGroup.finished'; readonly output: TaskGroupOutput; readonly durationMs: number };

type InternalEvent = ChildArrivedEvent | ChildSettledEvent;

interface TaskGroupContext {
  readonly config: ResolvedTaskGroupInput;
  readonly clock: Clock;
  readonly startedAtMs: number;
  readonly book: GroupBook;
}

/** Hook parameters (see the `record*` actions). */
export interface ChildSettledRecord {
  readonly outcome: TaskResult['status'];
  readonly durationMs: number | undefined;
}
export interface GroupFinishedRecord {
  readonly reason: FinishReason;
  readonly durationMs: number;
}

/** Metrics hooks are referenced from `enqueueActions` inside `setup`, where XState types sibling actions as
 * `never`; the cast is confined to these calls. */
type HookAction = never;

/** A pure decision over the context. Wrapped in `{ decide }` as action params, because XState would call a
 * function-valued `params` as a resolver. */
type Decide = (context: TaskGroupContext, nowMs: number) => Decision;

/** The shard that holds child number `index`. */
function shardOf(index: number): string {
  return `shard-${Math.floor(index / TASKGROUP_SHARD_SIZE)}`;
}

/** Groups ids by the shard that holds them, preserving order. */
function byShard(config: ResolvedTaskGroupInput, ids: Iterable<string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const shard = shardOf(config.indexById.get(id) ?? 0);
    const list = groups.get(shard);
    if (list) list.push(id);
    else groups.set(shard, [id]);
  }
  return groups;
}

export const taskGroupMachine = setup({
  types: {
    input: {} as TaskGroupInput,
    context: {} as TaskGroupContext,
    events: {} as TaskGroupEvent | InternalEvent,
    emitted: {} as TaskGroupEmitted,
    output: {} as TaskGroupOutput,
  },
  actors: { shard: taskGroupShardMachine },
  actions: {
    /** Metrics hook per settled child; a no-op unless provided (see taskGroup.ts). */
    recordChildSettled: (_, _record: ChildSettledRecord) => {},
    /** Metrics hook when the group finishes; a no-op unless provided. */
    recordGroupFinished: (_, _record: GroupFinishedRecord) => {},
    /** Runs a pure decision and carries out its commands, in this order: stop, release, start, announce. */
    decide: enqueueActions(({ context, enqueue }, { decide }: { decide: Decide }) => {
      const nowMs = context.clock.nowMs();
      const { book, commands } = decide(context, nowMs);
      if (book === context.book) return;
      const { config } = context;
      enqueue.assign({ book });
      const send = (shard: string, command: ShardCommand): void => enqueue.sendTo(shard, command);
      for (const [shard, ids] of byShard(config, commands.stop)) send(shard, { type: 'taskGroup.shard.stop', ids });
      for (const { name, childIds } of commands.releases) {
        for (const [shard, ids] of byShard(config, childIds)) send(shard, { type: 'taskGroup.shard.release', name, ids });
        enqueue.emit({ type: 'taskGroup.barrier.released', name, childIds });
      }
      const starts = new Map<string, TaskGroupChildInput[]>();
      for (const spec of commands.start) {
        const shard = shardOf(config.indexById.get(spec.id) ?? 0);
        const child: TaskGroupChildInput = {
          id: spec.id,
          logic: spec.logic,
          input: spec.input,
          timeoutMs: spec.timeoutMs ?? config.childTimeoutMs,
        };
        const list = starts.get(shard);
        if (list) list.push(child);
        else starts.set(shard, [child]);
      }
      for (const [shard, children] of starts) send(shard, { type: 'taskGroup.shard.start', children });
      for (const spec of commands.start) enqueue.emit({ type: 'taskGroup.child.started', childId: spec.id });
      for (const { result, durationMs } of commands.settled) {
        enqueue.emit({ type: 'taskGroup.child.settled', result, durationMs });
        enqueue({ type: 'recordChildSettled', params: { outcome: result.status, durationMs } } as HookAction);
      }
    }),
    announceFinished: enqueueActions(({ context, enqueue }) => {
      const output = groupOutput(context.book, context.config);
      const durationMs = context.clock.nowMs() - context.startedAtMs;
      enqueue.emit({ type: 'taskGroup.finished', output, durationMs });
      enqueue({ type: 'recordGroupFinished', params: { reason: output.reason, durationMs } } as HookAction);
    }),
  },
  guards: {
    hasDeadline: ({ context }) => context.config.deadlineMs !== undefined,
    allSettled: ({ context }) => isFinished(context.book, context.config),
    /** A result from a child that is still live (a late one after a cancel is dropped: the first outcome wins). */
    fromLiveChild: ({ context, event }) =>
      event.type === 'taskGroup.child.settled' && isRunning(context.book, context.config, event.result.id),
  },
  delays: {
    groupDeadline: ({ context }) => context.config.deadlineMs ?? 0,
  },
}).createMachine({
  id: 'taskGroup',
  context: ({ input, spawn }) => {
    const config = resolveTaskGroupInput(input);
    const clock = input.clock ?? systemClock;
    const shards = Math.ceil(config.children.length / TASKGROUP_SHARD_SIZE);
    for (let k = 0; k < shards; k++) spawn('shard', { id: shardOf(k * TASKGROUP_SHARD_SIZE) });
    return { config, clock, startedAtMs: clock.nowMs(), book: initialGroupBook(config) };
  },
  initial: 'running',
  states: {
    /** Children run; the group waits for every one of them to settle. */
    running: {
      entry: { type: 'decide', params: { decide: startNext } },
      always: { guard: 'allSettled', target: 'finished' },
      initial: 'arming',
      states: {
        /** Picks whether a deadline applies (a transient state). */
        arming: { always: [{ guard: 'hasDeadline', target: 'bounded' }, { target: 'unbounded' }] },
        /** The deadline timer runs; when it fires, live children are stopped as timed out. */
        bounded: {
          after: { groupDeadline: { actions: { type: 'decide', params: { decide: stopWith('deadline') } } } },
        },
        /** No deadline. */
        unbounded: {},
      },
      on: {
        'taskGroup.child.settled': {
          guard: 'fromLiveChild',
          actions: {
            type: 'decide',
            params: ({ event }) => {
              const { result } = event;
              const decide: Decide = (context, nowMs) => childSettled(context.book, context.config, result, nowMs);
              return { decide };
            },
          },
        },
        'taskGroup.child.arrived': {
          actions: {
            type: 'decide',
            params: ({ event }) => {
              const { childId, name } = event;
              const decide: Decide = (context) => childArrived(context.book, context.config, childId, name);
              return { decide };
            },
          },
        },
        'taskGroup.cancel': { actions: { type: 'decide', params: { decide: stopWith('cancelled') } } },
      },
    },
    /** Every child has a result. */
    finished: { type: 'final', entry: 'announceFinished' },
  },
  output: ({ context }) => groupOutput(context.book, context.config),
});

export type TaskGroupActor = ActorRefFrom<typeof taskGroupMachine>;

function startNext(context: TaskGroupContext, nowMs: number): Decision {
  return startChildren(context.book, context.config, nowMs);
}

function stopWith(reason: CancelReason): Decide {
  return (context, nowMs) => stopGroup(context.book, context.config, reason, nowMs);
}
