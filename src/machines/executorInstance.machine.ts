/**
 * One executor seen from the miner: started by a backend, watched until it exits, killed when it outlives its TTL,
 * its job, or the miner, and swept afterwards (leftover job containers removed). The pool spawns one per reservation
 * and frees the slot when this actor ends, so "the slot is held until the executor exits" is this machine's final
 * state.
 *
 * Effects are injected (`src/actors/miner/executorInstance.ts` provides the real ones over an `ExecutorBackend`):
 * - `spawnExecutor` (promise): starts the executor, aborted on spin-up timeout or stop;
 * - `watchExecutor` (callback): reports the exit, and runs the periodic health check;
 * - `terminateExecutor` / `killExecutor` (promise): SIGTERM, SIGKILL;
 * - `sweepExecutor` (promise): removes what the executor left behind;
 * - `reaper` (callback): kills the executor if this actor is stopped while it may still run (a forced stop, a crash
 *   of the pool), so that no executor outlives its actor.
 *
 * Whoever reserved the executor (the job) hears `job.executor.started`, `job.executor.spinup_failed` and
 * `job.executor.exited`.
 */
import { assign, enqueueActions, fromCallback, fromPromise, sendTo, setup, type AnyActorRef, type EventObject } from 'xstate';
import type { ExecutorExit, ExecutorHandle, SpawnRequest } from '../actors/miner/backends/types';
import type { ExecutorClass } from '../protocol/enums';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';

/** Durations of one executor's life (defaults in `src/actors/miner/defaults.ts`). */
export interface ExecutorTimings {
  /** From spawn start until the backend says it runs. */
  readonly spinUpTimeoutMs: number;
  /** From spawn start until it is killed whatever it does (upstream MAX_EXECUTOR_TIMEOUT). */
  readonly ttlMs: number;
  readonly healthCheckIntervalMs: number;
  /** SIGTERM → SIGKILL. */
  readonly stopGraceMs: number;
  /** SIGKILL → give up waiting for the exit. */
  readonly killConfirmTimeoutMs: number;
  /** Job over → kill, if it has not exited by itself. */
  readonly exitGraceAfterJobMs: number;
  readonly sweepTimeoutMs: number;
}

/** How an executor's life ended (the `end` label of the executor metrics). */
export type ExecutorEnd =
  | 'exited'
  | 'vanished'
  | 'killed_ttl'
  | 'killed_job_over'
  | 'killed_drain'
  | 'killed_stop'
  | 'spinup_failed'
  | 'spinup_timeout';

/** Why a kill was asked for. */
export type KillReason = 'ttl' | 'job_over' | 'drain' | 'stop';

export interface ExecutorInstanceInput {
  readonly token: string;
  readonly jobUuid: string;
  readonly executorClass: ExecutorClass;
  /** Told about the executor's start and end; undefined when nobody listens. */
  readonly job: AnyActorRef | undefined;
  readonly timings: ExecutorTimings;
  /** Wall clock (lifetime figures). Timers run on XState's clock. */
  readonly clock: Clock;
}

/** What the pool learns when the instance ends. */
export interface ExecutorInstanceOutput {
  readonly token: string;
  readonly executorClass: ExecutorClass;
  readonly end: ExecutorEnd;
  readonly exit: ExecutorExit | undefined;
  readonly lifetimeMs: number;
  /** Leftover containers removed by the sweep (0 when none or the sweep failed). */
  readonly containersRemoved: number;
  /** Set when the sweep failed or timed out. */
  readonly sweepProblem: string | undefined;
  /** A spin-up failure's message. */
  readonly spinUpProblem: string | undefined;
}

/** Events an executor instance accepts. */
export type ExecutorInstanceEvent =
  /** The job is over: let the executor exit by itself within the grace, then kill it. */
  | { readonly type: 'executor.job_over' }
  /** Kill now (SIGTERM, then SIGKILL after the stop grace). */
  | { readonly type: 'executor.kill'; readonly reason: KillReason }
  /** The supervisor's graceful stop protocol: kill now. */
  | { readonly type: 'supervisor.shutdown' };

/** Sent by the watch actor (private). */
type WatchEvent =
  | { readonly type: 'executor.watch.exited'; readonly exit: ExecutorExit }
  | { readonly type: 'executor.watch.vanished' };

/** Commands for the reaper (private). */
type ReaperCommand = { readonly type: 'reaper.track'; readonly handle: ExecutorHandle } | { readonly type: 'reaper.release' };

/** What the job is told (its own event union lists these). */
export type ExecutorNotice =
  | { readonly type: 'job.executor.started'; readonly token: string; readonly publicAddress: string | undefined }
  | { readonly type: 'job.executor.spinup_failed'; readonly token: string; readonly message: string }
  | { readonly type: 'job.executor.exited'; readonly token: string; readonly exit: ExecutorExit | undefined; readonly end: ExecutorEnd };

interface ExecutorInstanceContext extends ExecutorInstanceInput {
  readonly startedAtMs: number;
  handle: ExecutorHandle | undefined;
  jobOver: boolean;
  killReason: KillReason | undefined;
  end: ExecutorEnd | undefined;
  exit: ExecutorExit | undefined;
  containersRemoved: number;
  sweepProblem: string | undefined;
  spinUpProblem: string | undefined;
}

const unwired = (name: string) => () => {
  throw new Error(`executorInstanceMachine: actor '${name}' is not provided`);
};

const END_OF_KILL: Readonly<Record<KillReason, ExecutorEnd>> = {
  ttl: 'killed_ttl',
  job_over: 'killed_job_over',
  drain: 'killed_drain',
  stop: 'killed_stop',
};

/**
 * The executor instance machine (see the module comment). The pool provides its effects once and spawns it per
 * reservation.
 *
 * @example
 * ```ts
 * const logic = executorInstanceMachine.provide({ actors: executorEffects(backend, logger) });
 * spawnChild(logic, { id: `executor-${token}`, input: { token, jobUuid, executorClass, job, timings, clock } });
 * ```
 */
export const executorInstanceMachine = setup({
  types: {
    context: {} as ExecutorInstanceContext,
    input: {} as ExecutorInstanceInput,
    events: {} as ExecutorInstanceEvent | WatchEvent,
    output: {} as ExecutorInstanceOutput,
  },
  actors: {
    spawnExecutor: fromPromise<ExecutorHandle, SpawnRequest>(unwired('spawnExecutor')),
    watchExecutor: fromCallback<EventObject, { handle: ExecutorHandle; healthCheckIntervalMs: number }>(unwired('watchExecutor')),
    terminateExecutor: fromPromise<void, { handle: ExecutorHandle }>(unwired('terminateExecutor')),
    killExecutor: fromPromise<void, { handle: ExecutorHandle }>(unwired('killExecutor')),
    sweepExecutor: fromPromise<number, { handle: ExecutorHandle; token: string }>(unwired('sweepExecutor')),
    reaper: fromCallback<ReaperCommand>(unwired('reaper')),
  },
  delays: {
    spinUpTimeout: ({ context }) => context.timings.spinUpTimeoutMs,
    ttlLeft: ({ context }) => Math.max(0, context.timings.ttlMs - (context.clock.nowMs() - context.startedAtMs)),
    exitGraceAfterJob: ({ context }) => context.timings.exitGraceAfterJobMs,
    stopGrace: ({ context }) => context.timings.stopGraceMs,
    killConfirmTimeout: ({ context }) => context.timings.killConfirmTimeoutMs,
    sweepTimeout: ({ context }) => context.timings.sweepTimeoutMs,
  },
  guards: {
    jobIsOver: ({ context }) => context.jobOver,
  },
  actions: {
    notifyStarted: enqueueActions(({ context, enqueue }) => {
      if (context.job === undefined) return;
      enqueue.sendTo(context.job, {
        type: 'job.executor.started',
        token: context.token,
        publicAddress: context.handle?.publicAddress,
      } satisfies ExecutorNotice);
    }),
    notifySpinUpFailed: enqueueActions(({ context, enqueue }) => {
      if (context.job === undefined) return;
      enqueue.sendTo(context.job, {
        type: 'job.executor.spinup_failed',
        token: context.token,
        message: context.spinUpProblem ?? 'executor failed to start',
      } satisfies ExecutorNotice);
    }),
    notifyExited: enqueueActions(({ context, enqueue }) => {
      if (context.job === undefined || context.jobOver) return;
      enqueue.sendTo(context.job, {
        type: 'job.executor.exited',
        token: context.token,
        exit: context.exit,
        end: context.end ?? 'exited',
      } satisfies ExecutorNotice);
    }),
    trackHandle: sendTo('reaper', ({ context }) => ({ type: 'reaper.track', handle: context.handle! }) satisfies ReaperCommand),
    releaseHandle: sendTo('reaper', { type: 'reaper.release' } satisfies ReaperCommand),
    markJobOver: assign({ jobOver: true }),
  },
}).createMachine({
  id: 'executorInstance',
  context: ({ input }) => ({
    ...input,
    startedAtMs: input.clock.nowMs(),
    handle: undefined,
    jobOver: false,
    killReason: undefined,
    end: undefined,
    exit: undefined,
    containersRemoved: 0,
    sweepProblem: undefined,
    spinUpProblem: undefined,
  }),
  invoke: { id: 'reaper', src: 'reaper' },
  initial: 'spawning',
  states: {
    // The backend is starting the executor; the spin-up clock runs.
    spawning: {
      invoke: {
        src: 'spawnExecutor',
        input: ({ context }) => ({ token: context.token, jobUuid: context.jobUuid, executorClass: context.executorClass }),
        onDone: [
          {
            guard: 'jobIsOver',
            target: 'alive.stopping',
            actions: [assign({ handle: ({ event }) => event.output, killReason: 'job_over' }), 'trackHandle'],
          },
          {
            target: 'alive.running',
            actions: [assign({ handle: ({ event }) => event.output }), 'trackHandle', 'notifyStarted'],
          },
        ],
        onError: {
          target: 'ended',
          actions: [
            assign({ end: 'spinup_failed', spinUpProblem: ({ event }) => toError(event.error).message }),
            'notifySpinUpFailed',
          ],
        },
      },
      after: {
        spinUpTimeout: {
          target: 'ended',
          actions: [
            assign({
              end: 'spinup_timeout',
              spinUpProblem: ({ context }) => `executor did not start within ${context.timings.spinUpTimeoutMs} ms`,
            }),
            'notifySpinUpFailed',
          ],
        },
      },
      on: {
        'executor.job_over': { actions: 'markJobOver' },
        // Stopping the spawn aborts it; the backend removes whatever was half-started.
        'executor.kill': { target: 'ended', actions: assign({ end: ({ event }) => END_OF_KILL[event.reason] }) },
        'supervisor.shutdown': { target: 'ended', actions: assign({ end: 'killed_stop' }) },
      },
    },
    // The executor runs; its exit (or disappearance) is watched.
    alive: {
      invoke: {
        src: 'watchExecutor',
        input: ({ context }) => ({ handle: context.handle!, healthCheckIntervalMs: context.timings.healthCheckIntervalMs }),
      },
      on: {
        'executor.watch.exited': {
          target: 'sweeping',
          actions: assign({
            exit: ({ event }) => event.exit,
            end: ({ context }) => (context.killReason === undefined ? 'exited' : END_OF_KILL[context.killReason]),
          }),
        },
        'executor.watch.vanished': {
          target: 'sweeping',
          actions: assign({
            end: ({ context }) => (context.killReason === undefined ? 'vanished' : END_OF_KILL[context.killReason]),
          }),
        },
      },
      initial: 'running',
      states: {
        // Working for its job (or waiting for it); killed when its TTL runs out.
        running: {
          after: { ttlLeft: { target: 'stopping', actions: assign({ killReason: 'ttl' }) } },
          on: {
            'executor.job_over': { target: 'lingering', actions: 'markJobOver' },
            'executor.kill': { target: 'stopping', actions: assign({ killReason: ({ event }) => event.reason }) },
            'supervisor.shutdown': { target: 'stopping', actions: assign({ killReason: 'stop' }) },
          },
        },
        // The job is over; the executor gets a grace to clean up and exit by itself.
        lingering: {
          after: {
            exitGraceAfterJob: { target: 'stopping', actions: assign({ killReason: 'job_over' }) },
            ttlLeft: { target: 'stopping', actions: assign({ killReason: 'ttl' }) },
          },
          on: {
            'executor.kill': { target: 'stopping', actions: assign({ killReason: ({ event }) => event.reason }) },
            'supervisor.shutdown': { target: 'stopping', actions: assign({ killReason: 'stop' }) },
          },
        },
        // SIGTERM sent; SIGKILL follows after the stop grace.
        stopping: {
          invoke: { src: 'terminateExecutor', input: ({ context }) => ({ handle: context.handle! }) },
          after: { stopGrace: 'forcing' },
          on: { 'executor.job_over': { actions: 'markJobOver' } },
        },
        // SIGKILL sent; if even the exit is not confirmed, the executor is given up on.
        forcing: {
          invoke: { src: 'killExecutor', input: ({ context }) => ({ handle: context.handle! }) },
          after: {
            killConfirmTimeout: {
              target: '#executorInstance.sweeping',
              actions: assign({ end: ({ context }) => END_OF_KILL[context.killReason ?? 'stop'] }),
            },
          },
          on: { 'executor.job_over': { actions: 'markJobOver' } },
        },
      },
    },
    // The executor is gone; removing its leftovers before the slot is freed.
    sweeping: {
      entry: ['releaseHandle', 'notifyExited'],
      invoke: {
        src: 'sweepExecutor',
        input: ({ context }) => ({ handle: context.handle!, token: context.token }),
        onDone: { target: 'ended', actions: assign({ containersRemoved: ({ event }) => event.output }) },
        onError: { target: 'ended', actions: assign({ sweepProblem: ({ event }) => toError(event.error).message }) },
      },
      after: {
        sweepTimeout: {
          target: 'ended',
          actions: assign({ sweepProblem: ({ context }) => `sweep did not finish within ${context.timings.sweepTimeoutMs} ms` }),
        },
      },
      on: { 'executor.job_over': { actions: 'markJobOver' } },
    },
    // The slot can be freed. Final.
    ended: { type: 'final' },
  },
  output: ({ context }) => ({
    token: context.token,
    executorClass: context.executorClass,
    end: context.end ?? 'exited',
    exit: context.exit,
    lifetimeMs: context.clock.nowMs() - context.startedAtMs,
    containersRemoved: context.containersRemoved,
    sweepProblem: context.sweepProblem,
    spinUpProblem: context.spinUpProblem,
  }),
});
