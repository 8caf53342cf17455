/**
 * The observable, inspectable circuit breaker: the same pure transitions as `CircuitBreaker`
 * (src/resilience/circuitBreaker.ts), with the state as machine states, the cool-down as a timer on XState's clock,
 * and every phase change emitted. Use it where a breaker should show up in the inspector or be a child in an actor
 * tree; use the class where there are hundreds (per-miner manifest fetches).
 *
 * Invariant (checked by the model tests): `snapshot.value === snapshot.context.circuit.phase`.
 */
import { assign, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import {
  admitRequest,
  circuitBreakerPolicy,
  closeCircuit,
  halfOpenCircuit,
  initialCircuitState,
  openCircuit,
  recordFailure,
  recordSuccess,
  releaseStaleProbes,
  type Admission,
  type CircuitBreakerPolicy,
  type CircuitPhase,
  type CircuitState,
  type CircuitTransition,
} from '../resilience/circuitBreaker';
import { CircuitNotRunningError } from '../resilience/errors';
import { systemClock, type Clock } from '../util/clock';

export interface CircuitBreakerInput {
  /** Label for metrics and events. */
  readonly name: string;
  readonly policy?: Partial<CircuitBreakerPolicy>;
  /** Wall clock for failure windows and probe staleness; the cool-down timer runs on XState's `clock`. Keep the two
   * in step in tests (`{ nowMs: () => simulatedClock.now() }`). */
  readonly clock?: Clock;
}

/** Events the breaker accepts. */
export type CircuitBreakerEvent =
  /** May a call go? The answer is in `context.lastAdmission` right after `send` returns (see `admitThrough`). */
  | { readonly type: 'circuit.request' }
  /** A call succeeded; `generation` from its admission (omit to mean "the current phase"). */
  | { readonly type: 'circuit.success'; readonly generation?: number }
  /** A call failed (same rule for `generation`). */
  | { readonly type: 'circuit.failure'; readonly generation?: number }
  /** Force open. */
  | { readonly type: 'circuit.trip' }
  /** Force closed, forgetting the history. */
  | { readonly type: 'circuit.reset' };

/** Events the breaker emits (`actor.on('circuit.transition', …)`). */
export type CircuitBreakerEmitted =
  | ({ readonly type: 'circuit.transition' } & CircuitTransition)
  | { readonly type: 'circuit.rejected'; readonly name: string; readonly retryInMs: number };

export interface CircuitBreakerContext {
  readonly name: string;
  readonly policy: CircuitBreakerPolicy;
  readonly clock: Clock;
  readonly circuit: CircuitState;
  /** The answer to the last `circuit.request`. */
  readonly lastAdmission: Admission | undefined;
}

/**
 * The metrics hooks, referenced from `enqueueActions` inside `setup`, where XState cannot type sibling actions yet
 * (`TAction` is inferred as `never` there); the cast is confined to these two calls.
 */
type HookAction = never;

/** Which pure step an event applies. */
type StepKind = 'success' | 'failure' | 'trip' | 'reset' | 'half_open';

function nextCircuit(kind: StepKind, context: CircuitBreakerContext, event: CircuitBreakerEvent, nowMs: number): CircuitState {
  const { policy, circuit } = context;
  const generation = event.type === 'circuit.success' || event.type === 'circuit.failure' ? event.generation : undefined;
  switch (kind) {
    case 'success':
      return recordSuccess(policy, circuit, generation);
    case 'failure':
      return recordFailure(policy, circuit, nowMs, generation);
    case 'trip':
      return openCircuit(policy, circuit, nowMs);
    case 'reset':
      return closeCircuit(circuit);
    case 'half_open':
      return halfOpenCircuit(circuit);
  }
}

/**
 * The circuit breaker as a machine. Input: `{ name, policy?, clock? }`; events `circuit.request | success | failure
 * | trip | reset`; emits `circuit.transition` and `circuit.rejected`.
 *
 * @example
 * ```ts
 * const breaker = createActor(circuitBreakerMachine, { input: { name: 'facilitator', policy: { failureThreshold: 3 } } }).start();
 * breaker.on('circuit.transition', ({ from, to }) => log.info(`facilitator circuit ${from} -> ${to}`));
 * if (admitThrough(breaker).allowed) { … }
 * ```
 */
export const circuitBreakerMachine = setup({
  types: {
    input: {} as CircuitBreakerInput,
    context: {} as CircuitBreakerContext,
    events: {} as CircuitBreakerEvent,
    emitted: {} as CircuitBreakerEmitted,
  },
  actions: {
    /** Metrics hook for a phase change; a no-op unless provided (see `instrumentedCircuitBreakerMachine`). */
    recordTransition: (_, _transition: CircuitTransition) => {},
    /** Metrics hook for a refused request; a no-op unless provided. */
    recordRejected: (_, _name: string) => {},
    /** Metrics hook at start (the state gauge reads `closed` before any transition); a no-op unless provided. */
    recordStarted: (_, _name: string) => {},
    /** Applies a pure step; on a phase change, emits it and calls the metrics hook. */
    step: enqueueActions(({ context, event, enqueue }, kind: StepKind) => {
      const nowMs = context.clock.nowMs();
      const next = nextCircuit(kind, context, event, nowMs);
      if (next === context.circuit) return;
      enqueue.assign({ circuit: next });
      if (next.phase === context.circuit.phase) return;
      const transition: CircuitTransition = { name: context.name, from: context.circuit.phase, to: next.phase, atMs: nowMs };
      enqueue.emit({ type: 'circuit.transition', ...transition });
      enqueue({ type: 'recordTransition', params: transition } as HookAction);
    }),
    admit: enqueueActions(({ context, enqueue }) => {
      const nowMs = context.clock.nowMs();
      const { state, admission } = admitRequest(
        context.policy,
        releaseStaleProbes(context.policy, context.circuit, nowMs),
        nowMs,
      );
      enqueue.assign({ circuit: state, lastAdmission: admission });
      if (admission.allowed) return;
      enqueue.emit({ type: 'circuit.rejected', name: context.name, retryInMs: admission.retryInMs });
      enqueue({ type: 'recordRejected', params: context.name } as HookAction);
    }),
  },
  guards: {
    isPhase: ({ context }, phase: CircuitPhase) => context.circuit.phase === phase,
  },
  delays: {
    coolDown: ({ context }) => context.circuit.coolDownMs,
  },
}).createMachine({
  id: 'circuitBreaker',
  context: ({ input }) => ({
    name: input.name,
    policy: circuitBreakerPolicy(input.policy),
    clock: input.clock ?? systemClock,
    circuit: initialCircuitState(),
    lastAdmission: undefined,
  }),
  entry: { type: 'recordStarted', params: ({ context }) => context.name },
  initial: 'closed',
  on: {
    'circuit.request': { actions: 'admit' },
    'circuit.success': { actions: { type: 'step', params: 'success' } },
    'circuit.failure': { actions: { type: 'step', params: 'failure' } },
    // Re-entering `open` restarts the cool-down timer when the breaker was already open.
    'circuit.trip': { target: '.open', reenter: true, actions: { type: 'step', params: 'trip' } },
    'circuit.reset': { actions: { type: 'step', params: 'reset' } },
  },
  // Each state mirrors `context.circuit.phase`; the `always` guards follow a pure step that changed it.
  states: {
    /** Calls pass; failures are counted within the sliding window. */
    closed: {
      always: { guard: { type: 'isPhase', params: 'open' }, target: 'open' },
    },
    /** Calls are refused until the cool-down timer fires. */
    open: {
      always: { guard: { type: 'isPhase', params: 'closed' }, target: 'closed' },
      after: { coolDown: { target: 'half_open', actions: { type: 'step', params: 'half_open' } } },
    },
    /** Up to `halfOpenProbes` calls are admitted as probes; all succeed → closed, one fails → open. */
    half_open: {
      always: [
        { guard: { type: 'isPhase', params: 'open' }, target: 'open' },
        { guard: { type: 'isPhase', params: 'closed' }, target: 'closed' },
      ],
    },
  },
});

export type CircuitBreakerActor = ActorRefFrom<typeof circuitBreakerMachine>;

/**
 * `allowRequest()` for the machine: sends `circuit.request` and reads the answer. Call it from effect code, not
 * from inside the breaker's own listeners (there the event would be queued and the answer stale).
 *
 * @example
 * ```ts
 * const admission = admitThrough(breaker);
 * if (admission.allowed) {
 *   try { await call(); breaker.send({ type: 'circuit.success', generation: admission.generation }); }
 *   catch { breaker.send({ type: 'circuit.failure', generation: admission.generation }); }
 * }
 * ```
 */
export function admitThrough(actor: CircuitBreakerActor): Admission {
  const before = actor.getSnapshot().context.lastAdmission;
  actor.send({ type: 'circuit.request' });
  const { status, context } = actor.getSnapshot();
  // Each answer is a fresh object, so an unchanged one means the event was not processed.
  if (status !== 'active' || context.lastAdmission === undefined || context.lastAdmission === before)
    throw new CircuitNotRunningError(context.name);
  return context.lastAdmission;
}

// Re-exported so that callers of the machine need one import.
export { assign as _unusedAssign };
