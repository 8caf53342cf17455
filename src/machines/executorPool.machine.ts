/**
 * The executor pool of one executor class (upstream's `ExecutorClassPool`): a fixed number of slots (the class's
 * count in the manifest), reserved in one message round trip, each held by one executor instance until that
 * executor has exited and been swept.
 *
 * Reservation answers BEFORE anything is started: `pool.reserve` is answered with `job.reservation.granted` (a slot
 * was free) or `job.reservation.refused` (busy, draining) in the same step. The executor instance is spawned one
 * timer tick later (`delay: 0`), so that a burst of initial requests gets all its accepts out before the first
 * executor start is even prepared. Upstream's validator waits only 7 s for the accept; a spin-up may take minutes.
 *
 * Draining (SIGTERM): `pool.drain` refuses new reservations and leaves running executors alone; `pool.kill_all`
 * then kills what is still running. `supervisor.shutdown` does both and ends the pool once every executor is gone.
 */
import { enqueueActions, setup, type AnyActorRef, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import type { ExecutorClass } from '../protocol/enums';
import type { Clock } from '../util/clock';
import {
  executorInstanceMachine,
  type ExecutorNotice,
  type ExecutorInstanceEvent,
  type ExecutorInstanceInput,
  type ExecutorInstanceOutput,
  type ExecutorTimings,
} from './executorInstance.machine';

/** Where the pool reports what it does (metrics, logs). */
export interface ExecutorPoolObserver {
  /** Slots changed: `held` of `capacity` are taken. */
  occupancy(executorClass: ExecutorClass, capacity: number, held: number): void;
  reservation(executorClass: ExecutorClass, outcome: 'reserved' | 'busy' | 'draining'): void;
  executorEnded(output: ExecutorInstanceOutput): void;
  executorFailed(token: string, error: unknown): void;
}

export const silentPoolObserver: ExecutorPoolObserver = {
  occupancy: () => undefined,
  reservation: () => undefined,
  executorEnded: () => undefined,
  executorFailed: () => undefined,
};

export interface ExecutorPoolInput {
  readonly executorClass: ExecutorClass;
  /** Slots (the manifest count of the class). */
  readonly capacity: number;
  readonly timings: ExecutorTimings;
  readonly clock: Clock;
  readonly observer?: ExecutorPoolObserver;
}

/** Events a pool accepts. */
export type ExecutorPoolEvent =
  /** Take a slot for `token`; answered to `job` at once, then the executor is started. */
  | { readonly type: 'pool.reserve'; readonly token: string; readonly jobUuid: string; readonly job: AnyActorRef }
  /** The job behind `token` is over: its executor may exit by itself within a grace, then it is killed. */
  | { readonly type: 'pool.job_over'; readonly token: string }
  /** Stop granting reservations (SIGTERM); running executors go on. */
  | { readonly type: 'pool.drain' }
  /** Kill every executor still running (the drain grace is over). */
  | { readonly type: 'pool.kill_all' }
  /** The supervisor's stop protocol: kill everything, end once every executor is gone. */
  | { readonly type: 'supervisor.shutdown' };

/** The pool's answer to `pool.reserve` (the job machine lists these in its own events). */
export type ReservationReply =
  | { readonly type: 'job.reservation.granted'; readonly token: string }
  | { readonly type: 'job.reservation.refused'; readonly token: string; readonly reason: 'busy' | 'draining' };

interface Slot {
  readonly jobUuid: string;
  readonly job: AnyActorRef;
  readonly reservedAtMs: number;
  /** False between the grant and the (deferred) spawn of the executor instance. */
  readonly spawned: boolean;
  /** The job ended before its executor was spawned: no executor is started, the slot is freed. */
  readonly jobOver: boolean;
}

/** Private: the deferred spawn of a granted slot's executor. */
type SpawnDue = { readonly type: 'pool.spawn_due'; readonly token: string };

interface ExecutorPoolContext extends ExecutorPoolInput {
  readonly observer: ExecutorPoolObserver;
  /** Held slots by token; a slot exists from reservation until its executor instance ended. */
  slots: Readonly<Record<string, Slot>>;
  held: number;
}

type ChildEnded = DoneActorEvent<ExecutorInstanceOutput, string> | ErrorActorEvent<unknown, string>;

function freeSlot(
  state: { readonly slots: Readonly<Record<string, Slot>>; readonly held: number },
  token: string,
): { slots: Readonly<Record<string, Slot>>; held: number } {
  const slots = { ...state.slots };
  delete slots[token];
  return { slots, held: state.held - 1 };
}

/** Child id of the executor instance of `token`. */
export function executorChildId(token: string): string {
  return `executor:${token}`;
}

const tokenOfChild = (actorId: string): string => actorId.slice('executor:'.length);


/**
 * The pool machine (see the module comment). Provide `executor` (the executor instance logic with its effects).
 *
 * @example
 * ```ts
 * const pool = createActor(executorPoolMachine.provide({ actors: { executor: executorInstanceLogic(backend, log) } }), {
 *   input: { executorClass: 'always_on.test', capacity: 2, timings, clock: systemClock },
 * }).start();
 * pool.send({ type: 'pool.reserve', token, jobUuid, job: jobActor }); // job receives job.reservation.granted
 * ```
 */
export const executorPoolMachine = setup({
  types: {
    context: {} as ExecutorPoolContext,
    input: {} as ExecutorPoolInput,
    events: {} as ExecutorPoolEvent | ChildEnded | SpawnDue,
  },
  // Provided with its effects by the miner (`executorInstanceLogic`); unprovided, its effects throw.
  actors: { executor: executorInstanceMachine },
  guards: {
    hasFreeSlot: ({ context }) => context.held < context.capacity,
    noSlotHeld: ({ context }) => context.held === 0,
  },
  actions: {
    grant: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'pool.reserve') return;
      const { token, jobUuid, job } = event;
      if (Object.hasOwn(context.slots, token)) {
        // A token is single-use: a second reservation for it is a bug upstream of here, never a second slot.
        enqueue.sendTo(job, { type: 'job.reservation.refused', token, reason: 'busy' } satisfies ReservationReply);
        return;
      }
      const held = context.held + 1;
      const slot: Slot = { jobUuid, job, reservedAtMs: context.clock.nowMs(), spawned: false, jobOver: false };
      enqueue.assign({ slots: { ...context.slots, [token]: slot }, held });
      // The answer leaves before the executor is even spawned.
      enqueue.sendTo(job, { type: 'job.reservation.granted', token } satisfies ReservationReply);
      enqueue.raise({ type: 'pool.spawn_due', token } satisfies SpawnDue, { delay: 0 });
      const { observer, executorClass, capacity } = context;
      enqueue(() => {
        observer.reservation(executorClass, 'reserved');
        observer.occupancy(executorClass, capacity, held);
      });
    }),
    spawn: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'pool.spawn_due') return;
      const { token } = event;
      const slot = context.slots[token];
      if (slot === undefined || slot.spawned) return;
      if (slot.jobOver) {
        // Nobody needs this executor any more.
        enqueue.assign(freeSlot(context, token));
        const { observer, executorClass, capacity } = context;
        const held = context.held - 1;
        enqueue(() => observer.occupancy(executorClass, capacity, held));
        return;
      }
      enqueue.assign({ slots: { ...context.slots, [token]: { ...slot, spawned: true } } });
      enqueue.spawnChild('executor', {
        id: executorChildId(token),
        input: {
          token,
          jobUuid: slot.jobUuid,
          executorClass: context.executorClass,
          job: slot.job,
          timings: context.timings,
          clock: context.clock,
        } satisfies ExecutorInstanceInput,
      });
    }),
    abandonUnspawned: enqueueActions(({ context, enqueue }) => {
      // Stopping: slots whose executor was never spawned are freed, and their jobs told there will be none.
      let slots = context.slots;
      let held = context.held;
      for (const [token, slot] of Object.entries(context.slots)) {
        if (slot.spawned) continue;
        ({ slots, held } = freeSlot({ slots, held }, token));
        if (!slot.jobOver) {
          enqueue.sendTo(slot.job, { type: 'job.executor.spinup_failed', token, message: 'the miner is stopping' } satisfies ExecutorNotice);
        }
      }
      if (held === context.held) return;
      enqueue.assign({ slots, held });
      const { observer, executorClass, capacity } = context;
      enqueue(() => observer.occupancy(executorClass, capacity, held));
    }),
    refuse: enqueueActions(({ context, event, enqueue }, params: { reason: 'busy' | 'draining' }) => {
      if (event.type !== 'pool.reserve') return;
      enqueue.sendTo(event.job, { type: 'job.reservation.refused', token: event.token, reason: params.reason } satisfies ReservationReply);
      const { observer, executorClass } = context;
      enqueue(() => observer.reservation(executorClass, params.reason));
    }),
    forwardJobOver: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'pool.job_over') return;
      const slot = context.slots[event.token];
      if (slot === undefined) return;
      if (!slot.spawned) {
        enqueue.assign({ slots: { ...context.slots, [event.token]: { ...slot, jobOver: true } } });
        return;
      }
      const id = executorChildId(event.token);
      const child = (self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[id];
      if (child !== undefined) enqueue.sendTo(child, { type: 'executor.job_over' } satisfies ExecutorInstanceEvent);
    }),
    killAll: enqueueActions(({ enqueue, self }) => {
      const children = (self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children;
      for (const child of Object.values(children)) {
        if (child !== undefined) enqueue.sendTo(child, { type: 'executor.kill', reason: 'drain' } satisfies ExecutorInstanceEvent);
      }
    }),
    release: enqueueActions(({ context, event, enqueue }) => {
      const ended = event as ChildEnded;
      const token = tokenOfChild(ended.actorId);
      if (!Object.hasOwn(context.slots, token)) return;
      const { slots, held } = freeSlot(context, token);
      enqueue.assign({ slots, held });
      const { observer, executorClass, capacity } = context;
      enqueue(() => {
        if (ended.type.startsWith('xstate.done.actor.')) observer.executorEnded((ended as DoneActorEvent<ExecutorInstanceOutput>).output);
        else observer.executorFailed(token, (ended as ErrorActorEvent).error);
        observer.occupancy(executorClass, capacity, held);
      });
    }),
  },
}).createMachine({
  id: 'executorPool',
  context: ({ input }) => ({
    ...input,
    observer: input.observer ?? silentPoolObserver,
    slots: {},
    held: 0,
  }),
  entry: ({ context }) => context.observer.occupancy(context.executorClass, context.capacity, 0),
  on: {
    'pool.spawn_due': { actions: 'spawn' },
    'xstate.done.actor.*': { actions: 'release' },
    // An executor instance that crashed frees its slot too (its reaper killed the executor when it stopped).
    'xstate.error.actor.*': { actions: 'release' },
    'pool.job_over': { actions: 'forwardJobOver' },
  },
  initial: 'accepting',
  states: {
    // Granting reservations while slots are free.
    accepting: {
      on: {
        'pool.reserve': [{ guard: 'hasFreeSlot', actions: 'grant' }, { actions: { type: 'refuse', params: { reason: 'busy' } } }],
        'pool.drain': 'draining',
        'pool.kill_all': 'killing',
        'supervisor.shutdown': 'stopping',
      },
    },
    // SIGTERM: no new reservations; running executors finish their jobs.
    draining: {
      on: {
        'pool.reserve': { actions: { type: 'refuse', params: { reason: 'draining' } } },
        'pool.kill_all': 'killing',
        'supervisor.shutdown': 'stopping',
      },
    },
    // The drain grace is over: every executor is being killed; new reservations are refused.
    killing: {
      entry: ['abandonUnspawned', 'killAll'],
      on: {
        'pool.reserve': { actions: { type: 'refuse', params: { reason: 'draining' } } },
        'pool.spawn_due': { actions: 'abandonUnspawned' },
        'supervisor.shutdown': 'stopping',
      },
    },
    // Stopping for good: kill everything, end when the last slot is free.
    stopping: {
      entry: ['abandonUnspawned', 'killAll'],
      always: { guard: 'noSlotHeld', target: 'stopped' },
      on: {
        'pool.reserve': { actions: { type: 'refuse', params: { reason: 'draining' } } },
        'pool.spawn_due': { actions: 'abandonUnspawned' },
      },
    },
    // Every executor is gone. Final.
    stopped: { type: 'final' },
  },
});
