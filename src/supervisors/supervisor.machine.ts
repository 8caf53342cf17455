import {
  enqueueActions,
  sendTo,
  setup,
  type ActorRefFrom,
  type AnyActorRef,
  type DoneActorEvent,
  type ErrorActorEvent,
  type AnyActorLogic,
} from 'xstate';
import { systemClock, systemRandom, type Clock, type Random } from '../util/clock';
import type { ChildExit } from './decider';
import { DEFAULT_MAX_CHILDREN } from './defaults';
import { SupervisorEscalationError } from './errors';
import { defaultSupervisorMetrics, type SupervisorMetrics } from './metrics';
import {
  initialState,
  plan,
  shutdownTimerId,
  type Mode,
  type PlanEnv,
  type PlanRequest,
  type StartStopRequest,
  type SupervisionState,
} from './planner';
import { validatePolicy, type ChildSpec, type Directive, type SupervisorPolicy } from './policy';

/** What a supervisor is started with. */
export interface SupervisorInput {
  policy: SupervisorPolicy;
  /** Started in this order when the supervisor starts; stopped in reverse. */
  children?: readonly ChildSpec[];
  /** Jitter source for restart backoff. Default: `Math.random`. */
  random?: Random;
  /** Reads the time for the intensity window and backoff resets (pass the same time as XState's `clock`). */
  clock?: Clock;
  /** The `supervisor` metric label and the name in escalation errors. Default: the actor's id. */
  name?: string;
  /** Default: {@link defaultSupervisorMetrics}. */
  metrics?: SupervisorMetrics;
  /** Children held at most, static and dynamic. Default: {@link DEFAULT_MAX_CHILDREN}. */
  maxChildren?: number;
}

/** Events a supervisor accepts from the outside. */
export type SupervisorEvent =
  /** Starts a dynamic child (one per connection, per job …), appended to the start order. */
  | { type: 'supervisor.start_child'; spec: ChildSpec }
  /** Stops one child gracefully (the shutdown protocol) and forgets it; a pending restart of it is cancelled. */
  | { type: 'supervisor.stop_child'; id: string }
  /** Stops every child in reverse start order, gracefully, then reaches a final state. */
  | { type: 'supervisor.shutdown' };

/** Emitted for every decision about a child's exit (`actor.on('supervisor.decision', …)`). */
export interface SupervisorDecisionEvent {
  type: 'supervisor.decision';
  childId: string;
  directive: Directive;
  /** `errorCode(error)` of the failure, or `normal` when the child completed. */
  errorCode: string;
  /** For `restart` and `resume`: the backoff before the restart (counted from when its group is down). */
  restartInMs?: number;
}

/** Emitted when `supervisor.start_child` / `supervisor.stop_child` cannot be honoured (there is no reply channel). */
export interface SupervisorRejectedEvent {
  type: 'supervisor.rejected';
  request: StartStopRequest;
  childId: string;
  reason: string;
}

export type SupervisorEmitted = SupervisorDecisionEvent | SupervisorRejectedEvent;

/** Private: events the supervisor sends itself (timers, and the last step of an escalation). */
type SupervisorInternalEvent =
  | { type: 'supervisor.restart_due'; key: string }
  | { type: 'supervisor.shutdown_due'; childId: string }
  | { type: 'supervisor.fail_now' };

type ChildExitEvent = DoneActorEvent<unknown, string> | ErrorActorEvent<unknown, string>;

interface SupervisorContext extends SupervisionState {
  readonly policy: SupervisorPolicy;
  readonly name: string;
  readonly random: Random;
  readonly clock: Clock;
  readonly metrics: SupervisorMetrics;
  readonly maxChildren: number;
}

interface ChildrenOf {
  children?: Record<string, AnyActorRef | undefined>;
}

function liveChild(self: AnyActorRef, id: string): AnyActorRef | undefined {
  return (self.getSnapshot() as ChildrenOf | undefined)?.children?.[id];
}

/** `self` is undefined while the actor initialises (its snapshot cannot be read yet; no child exists then). */
function envOf(context: SupervisorContext, self: AnyActorRef | undefined, system: AnyActorRef['system']): PlanEnv {
  return {
    policy: context.policy,
    maxChildren: context.maxChildren,
    nowMs: context.clock.nowMs(),
    random: context.random,
    isSystemIdTaken: (childId, systemId) => {
      const holder = system.get(systemId) as AnyActorRef | undefined;
      return holder !== undefined && (self === undefined || holder !== liveChild(self, childId));
    },
    actorEnded: (childId) => {
      const ref = self === undefined ? undefined : liveChild(self, childId);
      return ref !== undefined && (ref.getSnapshot() as { status: string }).status !== 'active';
    },
  };
}

/** Children's logic comes from their specs at run time; typing `actors` so lets `spawnChild` take any logic and id. */
const specLogic: Record<string, AnyActorLogic> = {};

type SupervisorMachineEvent = SupervisorEvent | SupervisorInternalEvent | ChildExitEvent;

function exitRequest(mode: Mode) {
  return ({ event }: { event: SupervisorMachineEvent }): PlanRequest => {
    const exit = event as ChildExitEvent;
    const ended: ChildExit = exit.type.startsWith('xstate.error.actor.')
      ? { kind: 'error', error: (exit as ErrorActorEvent).error }
      : { kind: 'normal' };
    return { kind: 'exit', mode, childId: exit.actorId, exit: ended };
  };
}

/** Handlers while shutting down or escalating: children only leave; start_child is rejected. */
function endingHandlers() {
  return {
    'xstate.done.actor.*': { actions: { type: 'plan', params: exitRequest('ending') } },
    // Must be handled: an unhandled child error would fail the supervisor itself.
    'xstate.error.actor.*': { actions: { type: 'plan', params: exitRequest('ending') } },
    'supervisor.start_child': {
      actions: {
        type: 'plan',
        params: ({ event }: { event: SupervisorMachineEvent }): PlanRequest => ({
          kind: 'start_child',
          mode: 'ending',
          spec: (event as { spec: ChildSpec }).spec,
        }),
      },
    },
    'supervisor.stop_child': {
      actions: {
        type: 'plan',
        params: ({ event }: { event: SupervisorMachineEvent }): PlanRequest => ({
          kind: 'stop_child',
          mode: 'ending',
          childId: (event as { id: string }).id,
        }),
      },
    },
    'supervisor.shutdown_due': {
      actions: {
        type: 'plan',
        params: ({ event }: { event: SupervisorMachineEvent }): PlanRequest => ({
          kind: 'shutdown_due',
          mode: 'ending',
          childId: (event as { childId: string }).childId,
        }),
      },
    },
  } as const;
}

/**
 * An OTP-style supervisor as an XState v5 machine: it spawns its children, decides what to do when one of them
 * ends, restarts them per its strategy with backoff, and gives up (fails to its own parent) when restarts come too
 * fast.
 *
 * **Strategies** (`policy.strategy`): `one_for_one` restarts the failed child; `one_for_all` every child;
 * `rest_for_one` the failed child and those started after it. Siblings that must go are stopped one at a time in
 * reverse start order with the shutdown protocol, then all come back in start order after one backoff delay.
 *
 * **Restart types** (`spec.restart`): `permanent` always restarts (even after completing), `transient` only after
 * an error, `temporary` never (also not when a sibling's failure takes it down: it is forgotten).
 *
 * **Decisions**: `policy.decider` classifies an error into a directive (see `decider.ts`):
 * - `restart`: restart per the strategy, after the backoff; counts against `intensity` within `periodMs`;
 * - `stop`: forget the failed child; nothing else happens;
 * - `escalate`: stop every child (reverse start order, gracefully) and fail with `SupervisorEscalationError`;
 * - `resume`: start the failed child again **at once, alone** (whatever the strategy), **without** counting against
 *   intensity or advancing its backoff. Why this meaning: an XState actor that failed is dead, so Akka's "keep the
 *   state and carry on" is impossible; "leave it stopped without escalating" would just be `stop`. What `resume`
 *   is for is an expected, harmless failure (`pool.full`): keep the service up and do not treat it as a crash.
 *   Safety valve: a child resumed more than `intensity` times within `periodMs` is failing in a loop, not
 *   harmlessly, so that failure is handled as `restart` (and reported as such) and the limit applies again.
 * Every decision is emitted as `supervisor.decision` and counted in `horde_supervisor_decisions_total`.
 *
 * **Intensity**: more than `intensity` restarts within `periodMs` → escalate (reason `intensity`).
 *
 * **Backoff**: with `policy.backoff`, the restart waits `restartInMs` (full jitter, see `restartBackoff.ts`),
 * counted from when the last child of its group is down; the child's attempt count starts over once it has run
 * `resetAfterMs`. Without it, restarts are immediate.
 *
 * **Shutdown protocol**: a child to be stopped is sent `{ type: 'supervisor.shutdown' }`; one that reaches a final
 * state (or fails) within its `shutdownMs` is done, otherwise it is stopped by force exactly then. A child that
 * ends on its own while the supervisor shuts down or escalates gets the decision `stop`.
 *
 * **Dynamic children**: `supervisor.start_child` appends a child to the start order (at most `maxChildren`);
 * `supervisor.stop_child` stops one gracefully and cancels a pending restart of it. Refused requests are emitted
 * as `supervisor.rejected` with the reason (there is no reply channel).
 *
 * **Escalation**: the supervisor's snapshot status becomes `'error'` (error: `SupervisorEscalationError`), which
 * XState delivers to its parent as `xstate.error.actor.<id>`; a root supervisor needs an error observer.
 *
 * Children are `snapshot.children[id]` while their actor lives (absent while waiting for a restart) and
 * `system.get(systemId)` when they have one. A child that fails while it starts is handled like any failure.
 * Exits of a child incarnation that is already gone (stopped by force as it finished) are ignored.
 *
 * @example
 * ```ts
 * const supervisor = createActor(supervisorMachine, {
 *   input: {
 *     policy: { strategy: 'rest_for_one', intensity: 5, periodMs: 30_000, backoff: DEFAULT_RESTART_BACKOFF,
 *               decider: deciderFromCodes({ 'pool.full': 'resume' }) },
 *     children: [
 *       { id: 'link', logic: transportMachine, input, restart: 'permanent', shutdownMs: 5_000, systemId: 'link' },
 *       { id: 'dispatcher', logic: dispatcherMachine, restart: 'permanent', shutdownMs: 5_000 },
 *     ],
 *   },
 * });
 * supervisor.on('supervisor.decision', (d) => log.info(d));
 * supervisor.subscribe({ error: (e) => process.exitCode = 1 });
 * supervisor.start();
 * const job = { id: `job-${uuid}`, logic: jobMachine, restart: 'temporary', shutdownMs: 5_000 } as const;
 * supervisor.send({ type: 'supervisor.start_child', spec: job });
 * supervisor.send({ type: 'supervisor.shutdown' }); // later: reaches status 'done'
 * ```
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    input: {} as SupervisorInput,
    events: {} as SupervisorMachineEvent,
    emitted: {} as SupervisorEmitted,
  },
  actors: specLogic,
  actions: {
    /** Asks the planner what to do and turns its effects into XState actions, in order. */
    plan: enqueueActions(({ context, enqueue, self, system }, request: PlanRequest) => {
      const env = envOf(context, request.kind === 'start' ? undefined : self, system);
      const { state, effects } = plan(context, env, request);
      const { children, restarts, groups, escalation } = state;
      enqueue.assign({ children, restarts, groups, escalation });
      for (const effect of effects) {
        switch (effect.kind) {
          case 'spawn': {
            const { id, logic, systemId } = effect.spec;
            enqueue.spawnChild(logic, { id, systemId, input: effect.spec.input as unknown });
            break;
          }
          case 'ask_shutdown':
            enqueue.sendTo(effect.childId, { type: 'supervisor.shutdown' });
            enqueue.raise(
              { type: 'supervisor.shutdown_due', childId: effect.childId },
              { id: shutdownTimerId(effect.childId), delay: effect.shutdownMs },
            );
            break;
          case 'stop':
            enqueue.stopChild(effect.childId);
            break;
          case 'cancel':
            enqueue.cancel(effect.timerId);
            break;
          case 'arm_restart':
            enqueue.raise(
              { type: 'supervisor.restart_due', key: effect.key },
              { id: effect.key, delay: effect.delayMs },
            );
            break;
          case 'decision': {
            const { childId, directive, errorCode, restartInMs } = effect.decision;
            enqueue.emit({
              type: 'supervisor.decision',
              childId,
              directive,
              errorCode,
              ...(restartInMs === undefined ? {} : { restartInMs }),
            });
            enqueue(() => {
              context.metrics.decision(context.name, childId, directive);
              if (directive === 'escalate') context.metrics.escalated(context.name);
            });
            break;
          }
          case 'restarted': {
            const { childId } = effect;
            enqueue(() => context.metrics.restarted(context.name, childId));
            break;
          }
          case 'rejected': {
            const { request, childId, reason } = effect;
            enqueue.emit({ type: 'supervisor.rejected', request, childId, reason });
            enqueue(() => context.metrics.rejected(context.name, request));
            break;
          }
        }
      }
    }),
    fail: ({ context }) => {
      const escalation = context.escalation;
      // Throwing here is how an XState actor fails: its status becomes 'error' and its parent is told.
      throw new SupervisorEscalationError(context.name, escalation?.childId ?? '?', escalation?.reason ?? 'decider', {
        cause: escalation?.cause,
      });
    },
  },
  guards: {
    escalationDecided: ({ context }) => context.escalation !== undefined,
    noChildrenLeft: ({ context }) => context.children.length === 0,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input, self }) => {
    // An invalid policy fails the supervisor at creation with a SupervisorPolicyError listing every problem.
    const maxChildren = input.maxChildren ?? DEFAULT_MAX_CHILDREN;
    validatePolicy(input.policy, input.children ?? [], { maxChildren });
    const clock = input.clock ?? systemClock;
    return {
      policy: input.policy,
      name: input.name ?? self.id,
      random: input.random ?? systemRandom,
      clock,
      metrics: input.metrics ?? defaultSupervisorMetrics(),
      maxChildren,
      ...initialState(input.children ?? [], clock.nowMs()),
    };
  },
  initial: 'running',
  states: {
    // Children are up, or down waiting for their restart; every exit gets a decision.
    running: {
      entry: { type: 'plan', params: { kind: 'start' } },
      always: { guard: 'escalationDecided', target: 'escalating' },
      on: {
        'xstate.done.actor.*': { actions: { type: 'plan', params: exitRequest('running') } },
        // Must be handled even when stale: an unhandled child error would fail the supervisor itself.
        'xstate.error.actor.*': { actions: { type: 'plan', params: exitRequest('running') } },
        'supervisor.start_child': {
          actions: {
            type: 'plan',
            params: ({ event }) => ({ kind: 'start_child', mode: 'running', spec: event.spec }),
          },
        },
        'supervisor.stop_child': {
          actions: {
            type: 'plan',
            params: ({ event }) => ({ kind: 'stop_child', mode: 'running', childId: event.id }),
          },
        },
        'supervisor.restart_due': {
          actions: { type: 'plan', params: ({ event }) => ({ kind: 'restart_due', key: event.key }) },
        },
        'supervisor.shutdown_due': {
          actions: {
            type: 'plan',
            params: ({ event }) => ({ kind: 'shutdown_due', mode: 'running', childId: event.childId }),
          },
        },
        'supervisor.shutdown': { target: 'shuttingDown' },
      },
    },
    // Asked to shut down: children stop one at a time in reverse start order; nothing restarts.
    shuttingDown: {
      entry: { type: 'plan', params: { kind: 'stop_all' } },
      always: { guard: 'noChildrenLeft', target: 'stopped' },
      on: endingHandlers(),
    },
    // Gave up: children stop one at a time in reverse start order, then the supervisor fails.
    escalating: {
      entry: { type: 'plan', params: { kind: 'stop_all' } },
      always: { guard: 'noChildrenLeft', target: 'failing' },
      on: endingHandlers(),
    },
    // Every child is stopped. XState drops the deferred effects (emitted decisions, the last child's stop) of a
    // macrostep that throws, so the failure happens in the next one, on an event the supervisor sends itself.
    failing: {
      entry: sendTo(({ self }) => self, { type: 'supervisor.fail_now' }),
      on: { 'supervisor.fail_now': { target: 'failed' } },
    },
    // Every child stopped after supervisor.shutdown; the parent sees xstate.done.actor.<id>.
    stopped: { type: 'final' },
    // Never observed: entering it throws SupervisorEscalationError, so the actor's status becomes 'error'.
    failed: { entry: 'fail' },
  },
});

/** A running supervisor. */
export type SupervisorActorRef = ActorRefFrom<typeof supervisorMachine>;
