/**
 * A shard of a task group: holds up to `TASKGROUP_SHARD_SIZE` child wrappers and relays between them and the group.
 *
 * Why it exists: XState copies a machine's `children` record on every spawn and every stop, so one machine with
 * thousands of children spends seconds copying (and stopping it stops them one by one, each copy shrinking by one).
 * Spreading the children over shards keeps every `children` record small. The group decides everything; a shard
 * only spawns, stops and forwards.
 */
import { enqueueActions, sendParent, setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import { taskGroupChildMachine, type ChildArrivedEvent, type TaskGroupChildInput } from './taskGroupChild.machine';
import type { TaskResult } from './types';

/** What the group tells a shard. Internal to the task group. */
export type ShardCommand =
  | { readonly type: 'taskGroup.shard.start'; readonly children: readonly TaskGroupChildInput[] }
  | { readonly type: 'taskGroup.shard.stop'; readonly ids: readonly string[] }
  | { readonly type: 'taskGroup.shard.release'; readonly name: string; readonly ids: readonly string[] };

/** Sent by a shard to the group when one of its children settled. Internal to the task group. */
export interface ChildSettledEvent {
  readonly type: 'taskGroup.child.settled';
  readonly result: TaskResult;
}

type ShardEvent = ShardCommand | ChildArrivedEvent | DoneActorEvent<TaskResult> | ErrorActorEvent;

export const taskGroupShardMachine = setup({
  types: { events: {} as ShardEvent },
  actors: { child: taskGroupChildMachine },
}).createMachine({
  id: 'taskGroupShard',
  initial: 'serving',
  states: {
    /** Relays until the group stops it (which stops whatever children remain). */
    serving: {
      on: {
        'taskGroup.shard.start': {
          actions: enqueueActions(({ event, enqueue }) => {
            for (const child of event.children) enqueue.spawnChild('child', { id: child.id, input: child });
          }),
        },
        'taskGroup.shard.stop': {
          actions: enqueueActions(({ event, enqueue }) => {
            for (const id of event.ids) enqueue.stopChild(id);
          }),
        },
        'taskGroup.shard.release': {
          actions: enqueueActions(({ event, enqueue, self }) => {
            // A child may have settled (and been removed) after the group decided the release; XState would fail
            // this shard for a send to a missing child, so only live children are sent to.
            const live = self.getSnapshot().children;
            for (const id of event.ids)
              if (Object.hasOwn(live, id)) enqueue.sendTo(id, { type: 'taskGroup.barrier.release', name: event.name });
          }),
        },
        'taskGroup.child.arrived': { actions: sendParent(({ event }) => event) },
        'xstate.done.actor.*': {
          actions: enqueueActions(({ event, enqueue }) => {
            const { output } = event;
            enqueue.sendParent({ type: 'taskGroup.child.settled', result: output } satisfies ChildSettledEvent);
            enqueue.stopChild(output.id);
          }),
        },
        // A wrapper turns its task's error into a result, so this is a bug in the wrapper; it still becomes that
        // child's failure instead of taking the shard (and the group) down.
        'xstate.error.actor.*': {
          actions: enqueueActions(({ event, enqueue }) => {
            const { actorId, error } = event;
            const result: TaskResult = { id: actorId, status: 'failed', error };
            enqueue.sendParent({ type: 'taskGroup.child.settled', result } satisfies ChildSettledEvent);
            enqueue.stopChild(actorId);
          }),
        },
      },
    },
  },
});
