/**
 * The executor pool of one executor class (upstream's `ExecutorClassPool`): a fixed number of slots (the class's
 * count in the manifest), each held by one executor instance from its reservation until that executor has exited and
 * been swept.
 *
 * Slots are reserved at its {@link ReservationDesk}, synchronously, when an initial request arrives: the job actor
 * starts already knowing its answer and accepts (or declines) at once, before anything is started. The pool picks
 * the desk's new reservations up in batches and starts their executors: once no slot has been reserved for
 * `spawnQuietMs`, or `spawnMaxDelayMs` after the oldest waiting reservation, whichever comes first. A burst of
 * initial requests thus gets its accepts out before most executor starts are even prepared (each start costs several
 * times a reservation, and they share one event loop). The leading edge is the exception: a reservation that finds
 * the pool quiet (no start for `spawnQuietMs`) starts its executor on the next timer tick, so that a lone job does
 * not wait for a pause that is already there. Upstream's validator waits only 7 s for the accept;
 * a spin-up takes seconds to minutes, so the deferral costs it nothing.
 *
 * Draining (SIGTERM): `pool.drain` closes the desk and leaves running executors alone; `pool.kill_all` then kills
 * what is still running. `supervisor.shutdown` does both and ends the pool once every executor is gone.
 */
import { enqueueActions, setup, type AnyActorRef, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import type { ExecutorClass } from '../protocol/enums';
import type { Clock } from '../util/clock';
import { EXECUTOR_SPAWN_MAX_DELAY_MS, EXECUTOR_SPAWN_QUIET_MS } from '../actors/miner/defaults';
import type { PendingReservation, ReservationDesk } from './executorPool.desk';
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
  /** Slots changed: `held` of `capacity` are taken (reservations not yet picked up included). */
  occupancy(executorClass: ExecutorClass, capacity: number, held: number): void;
  executorEnded(output: ExecutorInstanceOutput): void;
  executorFailed(token: string, error: unknown): void;
}

export const silentPoolObserver: ExecutorPoolObserver = {
  occupancy: () => undefined,
  executorEnded: () => undefined,
  executorFailed: () => undefined,
};

export interface ExecutorPoolInput {
  readonly executorClass: ExecutorClass;
  /** Where slots are reserved; its capacity is the pool's (the manifest count of the class). One pool per desk. */
  readonly desk: ReservationDesk;
  readonly timings: ExecutorTimings;
  readonly clock: Clock;
  readonly observer?: ExecutorPoolObserver;
  /** Executors are started once reservations pause this long. @default EXECUTOR_SPAWN_QUIET_MS */
  readonly spawnQuietMs?: number;
  /** …or this long after the oldest reservation not yet started, if they keep coming. @default EXECUTOR_SPAWN_MAX_DELAY_MS */
  readonly spawnMaxDelayMs?: number;
}

/** Events a pool accepts. */
export type ExecutorPoolEvent =
  /** From its desk: a reservation is waiting to be picked up (sent once per batch). */
  | { readonly type: 'pool.reservations_pending' }
  /** The job behind `token` is over: its executor may exit by itself within a grace, then it is killed. */
  | { readonly type: 'pool.job_over'; readonly token: string }
  /** Stop granting reservations (SIGTERM); running executors go on. */
  | { readonly type: 'pool.drain' }
  /** Kill every executor still running (the drain grace is over). */
  | { readonly type: 'pool.kill_all' }
  /** The supervisor's stop protocol: kill everything, end once every executor is gone. */
  | { readonly type: 'supervisor.shutdown' };

/** Private: the batch timer of the deferred executor starts is due (`leading`: start now, the pool was quiet). */
type SpawnDue = { readonly type: 'pool.spawn_due'; readonly leading?: boolean };

/** Id of the single spawn batch timer. */
const SPAWN_TIMER_ID = 'pool.spawn_batch';

interface ExecutorPoolContext extends ExecutorPoolInput {
  readonly observer: ExecutorPoolObserver;
  readonly spawnQuietMs: number;
  readonly spawnMaxDelayMs: number;
  /** Tokens whose executor instance was started and has not ended yet (each holds one of the desk's slots). */
  executors: ReadonlySet<string>;
  /** The spawn batch timer is armed (the desk has reservations waiting). */
  spawnArmed: boolean;
  /** Clock time the batch timer was armed (the oldest waiting reservation, give or take a tick). */
  batchStartedAtMs: number;
  /** Clock time executors were last started (-Infinity before the first). */
  lastSpawnAtMs: number;
}

type ChildEnded = DoneActorEvent<ExecutorInstanceOutput, string> | ErrorActorEvent<unknown, string>;

/** When the spawn batch timer fires: start the batch now (0), or wait this much longer (reservations keep coming). */
export function spawnBatchWaitMs(
  nowMs: number,
  batch: { readonly batchStartedAtMs: number; readonly lastReservedAtMs: number },
  limits: { readonly spawnQuietMs: number; readonly spawnMaxDelayMs: number },
): number {
  const quietLeft = limits.spawnQuietMs - (nowMs - batch.lastReservedAtMs);
  const maxLeft = limits.spawnMaxDelayMs - (nowMs - batch.batchStartedAtMs);
  return Math.max(0, Math.min(quietLeft, maxLeft));
}

/**
 * Whether a reservation that finds no batch waiting starts its executor at once (the leading edge): yes when no
 * executor was started for `spawnQuietMs`. A lone job then pays no batching delay; in a burst only its first
 * reservation does, and the others are batched behind the burst's accepts.
 */
export function spawnsAtOnce(nowMs: number, lastSpawnAtMs: number, spawnQuietMs: number): boolean {
  return nowMs - lastSpawnAtMs >= spawnQuietMs;
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
 * const desk = new ReservationDesk('always_on.test', 2, () => clock.nowMs());
 * const pool = createActor(executorPoolMachine.provide({ actors: { executor: executorInstanceLogic(backend, log) } }), {
 *   input: { executorClass: 'always_on.test', desk, timings, clock: systemClock },
 * }).start();
 * if (desk.reserve(token, jobUuid) === 'reserved') desk.bind(token, jobActor); // its executor starts shortly after
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
    noSlotHeld: ({ context }) => context.executors.size === 0 && context.desk.pendingCount === 0,
  },
  actions: {
    listen: ({ context, self }) => {
      const { desk, observer, executorClass } = context;
      desk.listen({
        held: (c, capacity, held) => observer.occupancy(c, capacity, held),
        pending: () => self.send({ type: 'pool.reservations_pending' }),
      });
      // A restarted pool starts from nothing: the executors of its previous incarnation were killed with it.
      desk.release(desk.held - desk.pendingCount);
      observer.occupancy(executorClass, desk.capacity, desk.held);
      if (desk.readyForPool > 0) self.send({ type: 'pool.reservations_pending' });
    },
    armBatch: enqueueActions(({ context, enqueue }) => {
      if (context.spawnArmed) return;
      const nowMs = context.clock.nowMs();
      enqueue.assign({ spawnArmed: true, batchStartedAtMs: nowMs });
      if (spawnsAtOnce(nowMs, context.lastSpawnAtMs, context.spawnQuietMs)) {
        // On the next timer tick, not now: the reserving job binds itself to its reservation (and sends its accept)
        // after this event, in the same turn; whatever else that turn reserved joins this batch.
        enqueue.raise({ type: 'pool.spawn_due', leading: true } satisfies SpawnDue, { id: SPAWN_TIMER_ID, delay: 0 });
        return;
      }
      enqueue.raise({ type: 'pool.spawn_due' } satisfies SpawnDue, { id: SPAWN_TIMER_ID, delay: context.spawnQuietMs });
    }),
    spawn: enqueueActions(({ context, event, enqueue }) => {
      const { desk } = context;
      const nowMs = context.clock.nowMs();
      const leading = (event as Partial<SpawnDue>).leading === true;
      const waitMs = leading ? 0 : spawnBatchWaitMs(nowMs, { batchStartedAtMs: context.batchStartedAtMs, lastReservedAtMs: desk.lastReservedAtMs }, context);
      if (waitMs > 0) {
        // Reservations are still coming: the accepts of a burst go first.
        enqueue.raise({ type: 'pool.spawn_due' } satisfies SpawnDue, { id: SPAWN_TIMER_ID, delay: waitMs });
        return;
      }
      // Taken while the transition is resolved (the spawns below need them); the pool is the desk's only taker.
      const taken = desk.take();
      const executors = new Set(context.executors);
      let unneeded = 0;
      for (const reservation of taken) {
        if (reservation.jobOver || reservation.job === undefined) {
          // Nobody needs this executor any more.
          unneeded += 1;
          continue;
        }
        executors.add(reservation.token);
        enqueue.spawnChild('executor', {
          id: executorChildId(reservation.token),
          input: {
            token: reservation.token,
            jobUuid: reservation.jobUuid,
            executorClass: context.executorClass,
            job: reservation.job,
            timings: context.timings,
            clock: context.clock,
          } satisfies ExecutorInstanceInput,
        });
      }
      // An empty batch (nothing bound yet) is no start: the next bound reservation may still lead.
      enqueue.assign({ executors, spawnArmed: false, lastSpawnAtMs: executors.size > context.executors.size ? nowMs : context.lastSpawnAtMs });
      if (unneeded > 0) enqueue(() => desk.release(unneeded));
    }),
    closeDesk: ({ context }) => context.desk.stopAccepting(),
    abandonPending: enqueueActions(({ context, enqueue }) => {
      // Stopping: reservations whose executor was never started are given back, and their jobs told there will be none.
      const { desk } = context;
      const taken: PendingReservation[] = desk.takeAll();
      for (const reservation of taken) {
        if (!reservation.jobOver && reservation.job !== undefined) {
          enqueue.sendTo(reservation.job, {
            type: 'job.executor.spinup_failed',
            token: reservation.token,
            message: 'the miner is stopping',
          } satisfies ExecutorNotice);
        }
      }
      if (context.spawnArmed) enqueue.assign({ spawnArmed: false });
      if (taken.length > 0) enqueue(() => desk.release(taken.length));
    }),
    forwardJobOver: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'pool.job_over') return;
      const { token } = event;
      if (!context.executors.has(token)) {
        const { desk } = context;
        enqueue(() => desk.markJobOver(token));
        return;
      }
      const child = (self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[executorChildId(token)];
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
      if (!context.executors.has(token)) return;
      const executors = new Set(context.executors);
      executors.delete(token);
      enqueue.assign({ executors });
      const { observer, desk } = context;
      enqueue(() => {
        if (ended.type.startsWith('xstate.done.actor.')) observer.executorEnded((ended as DoneActorEvent<ExecutorInstanceOutput>).output);
        else observer.executorFailed(token, (ended as ErrorActorEvent).error);
        desk.release();
      });
    }),
    unlisten: ({ context }) => context.desk.listen(undefined),
  },
}).createMachine({
  id: 'executorPool',
  context: ({ input }) => ({
    ...input,
    observer: input.observer ?? silentPoolObserver,
    spawnQuietMs: input.spawnQuietMs ?? EXECUTOR_SPAWN_QUIET_MS,
    spawnMaxDelayMs: input.spawnMaxDelayMs ?? EXECUTOR_SPAWN_MAX_DELAY_MS,
    executors: new Set(),
    spawnArmed: false,
    batchStartedAtMs: 0,
    lastSpawnAtMs: Number.NEGATIVE_INFINITY,
  }),
  entry: 'listen',
  on: {
    'pool.reservations_pending': { actions: 'armBatch' },
    'pool.spawn_due': { actions: 'spawn' },
    'xstate.done.actor.*': { actions: 'release' },
    // An executor instance that crashed frees its slot too (its reaper killed the executor when it stopped).
    'xstate.error.actor.*': { actions: 'release' },
    'pool.job_over': { actions: 'forwardJobOver' },
  },
  initial: 'accepting',
  states: {
    // The desk grants reservations while slots are free.
    accepting: {
      on: {
        'pool.drain': 'draining',
        'pool.kill_all': 'killing',
        'supervisor.shutdown': 'stopping',
      },
    },
    // SIGTERM: the desk refuses new reservations; running executors finish their jobs (reserved ones still start).
    draining: {
      entry: 'closeDesk',
      on: {
        'pool.kill_all': 'killing',
        'supervisor.shutdown': 'stopping',
      },
    },
    // The drain grace is over: every executor is being killed; reservations not started are given back.
    killing: {
      entry: ['closeDesk', 'abandonPending', 'killAll'],
      on: {
        'pool.reservations_pending': { actions: 'abandonPending' },
        'pool.spawn_due': { actions: 'abandonPending' },
        'supervisor.shutdown': 'stopping',
      },
    },
    // Stopping for good: kill everything, end when the last slot is free.
    stopping: {
      entry: ['closeDesk', 'abandonPending', 'killAll'],
      always: { guard: 'noSlotHeld', target: 'stopped' },
      on: {
        'pool.reservations_pending': { actions: 'abandonPending' },
        'pool.spawn_due': { actions: 'abandonPending' },
      },
    },
    // Every executor is gone. Final.
    stopped: { type: 'final', entry: 'unlisten' },
  },
});
