/**
 * Model-based test (toolchain.md §4): a pure protocol model of a supervisor with a permanent child `p`, a
 * temporary child `t` and a dynamic transient child `d` (started after them). xstate/graph walks the model; each
 * path drives the REAL supervisor on a simulated clock, steps the model alongside with `transition`, and checks
 * after every step that the two agree and that the supervisor keeps its invariants:
 * - the live children and the children waiting for a restart are exactly the model's;
 * - a restart timer is pending exactly when some child waits;
 * - a temporary child is never started again, and every decision about it is `stop`;
 * - restarts never exceed intensity without escalation, and escalation ends in status `error`.
 *
 * Every restart waits exactly 1 s (backoff min = max), and time only moves on TIMER, so all pending restarts
 * always fall due together.
 */
import { assign, initialTransition, setup, transition, type SnapshotFrom } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { SupervisorEscalationError } from '../../src/supervisors/errors';
import type { Strategy } from '../../src/supervisors/policy';
import { startSupervisor, statusOf, stopAllSupervisors, type Harness } from '../unit/supervisors/harness';

const INTENSITY = 2;

type Presence = 'up' | 'waiting' | 'absent';
type Child = 'p' | 't' | 'd';
interface ModelContext {
  strategy: Strategy;
  p: Presence;
  t: Presence;
  d: Presence;
  /** Failures that called for a restart (the last one over INTENSITY escalates instead). */
  restarts: number;
}
type ModelEvent =
  | { type: 'FAIL_P' }
  | { type: 'FAIL_T' }
  | { type: 'FAIL_D' }
  | { type: 'COMPLETE_D' }
  | { type: 'TIMER' }
  | { type: 'START_D' }
  | { type: 'STOP_D' }
  | { type: 'SHUTDOWN' };

const ALL_EVENTS: ModelEvent[] = [
  { type: 'FAIL_P' },
  { type: 'FAIL_T' },
  { type: 'FAIL_D' },
  { type: 'COMPLETE_D' },
  { type: 'TIMER' },
  { type: 'START_D' },
  { type: 'STOP_D' },
  { type: 'SHUTDOWN' },
];

/** The failed child waits; siblings its strategy takes down wait too, except the temporary one, which is gone. */
function afterRestartableFailure(context: ModelContext, failed: 'p' | 'd'): ModelContext {
  const next: ModelContext = { ...context, restarts: context.restarts + 1, [failed]: 'waiting' };
  const takesSiblings = context.strategy === 'one_for_all' || (context.strategy === 'rest_for_one' && failed === 'p');
  if (takesSiblings) {
    if (next.t === 'up') next.t = 'absent';
    const other = failed === 'p' ? 'd' : 'p';
    if (next[other] === 'up') next[other] = 'waiting';
  }
  return next;
}

const gone = { p: 'absent', t: 'absent', d: 'absent', restarts: 0 } as const;

const model = setup({
  types: { context: {} as ModelContext, events: {} as ModelEvent, input: {} as { strategy: Strategy } },
  guards: {
    pUp: ({ context }) => context.p === 'up',
    tUp: ({ context }) => context.t === 'up',
    dUp: ({ context }) => context.d === 'up',
    dAbsent: ({ context }) => context.d === 'absent',
    dPresent: ({ context }) => context.d !== 'absent',
    someoneWaits: ({ context }) => context.p === 'waiting' || context.d === 'waiting',
    overIntensity: ({ context }) => context.restarts > INTENSITY,
  },
}).createMachine({
  id: 'supervisorModel',
  context: ({ input }) => ({ strategy: input.strategy, p: 'up', t: 'up', d: 'absent', restarts: 0 }),
  initial: 'running',
  states: {
    running: {
      always: { guard: 'overIntensity', target: 'failed' },
      on: {
        FAIL_P: { guard: 'pUp', actions: assign(({ context }) => afterRestartableFailure(context, 'p')) },
        FAIL_T: { guard: 'tUp', actions: assign({ t: 'absent' }) },
        FAIL_D: { guard: 'dUp', actions: assign(({ context }) => afterRestartableFailure(context, 'd')) },
        COMPLETE_D: { guard: 'dUp', actions: assign({ d: 'absent' }) },
        TIMER: {
          guard: 'someoneWaits',
          actions: assign(({ context }) => ({
            p: context.p === 'waiting' ? 'up' : context.p,
            d: context.d === 'waiting' ? 'up' : context.d,
          })),
        },
        START_D: { guard: 'dAbsent', actions: assign({ d: 'up' }) },
        STOP_D: { guard: 'dPresent', actions: assign({ d: 'absent' }) },
        SHUTDOWN: { target: 'stopped' },
      },
    },
    stopped: { type: 'final', entry: assign(gone) },
    failed: { type: 'final', entry: assign(gone) },
  },
});

type ModelSnapshot = SnapshotFrom<typeof model>;

function startSut(strategy: Strategy): Harness {
  return startSupervisor(
    {
      policy: {
        strategy,
        intensity: INTENSITY,
        periodMs: 3_600_000,
        backoff: { minMs: 1_000, maxMs: 1_000, resetAfterMs: 0 },
      },
    },
    (spec) => [spec('p', 'permanent'), spec('t', 'temporary')],
  );
}

function checkInvariants(sut: Harness, state: ModelSnapshot): void {
  const snapshot = sut.actor.getSnapshot();
  const restarts = sut.decisions.filter((d) => d.directive === 'restart').length;
  const escalations = sut.decisions.filter((d) => d.directive === 'escalate').length;
  expect(restarts).toBeLessThanOrEqual(INTENSITY);
  expect(sut.starts('t')).toEqual([0]);
  expect(sut.decisions.filter((d) => d.childId === 't').every((d) => d.directive === 'stop')).toBe(true);

  if (state.value === 'failed') {
    expect(snapshot.status).toBe('error');
    expect(snapshot.error).toBeInstanceOf(SupervisorEscalationError);
    expect(restarts).toBe(INTENSITY);
    expect(escalations).toBe(1);
    return;
  }
  expect(escalations).toBe(0);
  if (state.value === 'stopped') {
    expect(snapshot.status).toBe('done');
    expect(sut.clock.pendingDueTimes()).toEqual([]);
    return;
  }
  expect(snapshot.status).toBe('active');
  expect(restarts).toBe(state.context.restarts);
  const children: Child[] = ['p', 't', 'd'];
  const live = children.filter((c) => statusOf(sut.child(c)) === 'active');
  const waiting = snapshot.context.children.filter((c) => c.phase === 'waiting').map((c) => c.spec.id);
  expect(live).toEqual(children.filter((c) => state.context[c] === 'up'));
  expect(waiting).toEqual(children.filter((c) => state.context[c] === 'waiting'));
  expect(sut.clock.pendingDueTimes().length > 0).toBe(waiting.length > 0);
}

afterEach(stopAllSupervisors);

function execute(sut: Harness, event: ModelEvent): void {
  switch (event.type) {
    case 'FAIL_P':
      return sut.fail('p');
    case 'FAIL_T':
      return sut.fail('t');
    case 'FAIL_D':
      return sut.fail('d');
    case 'COMPLETE_D':
      return sut.complete('d');
    case 'TIMER':
      sut.clock.fireNext();
      return;
    case 'START_D':
      return sut.actor.send({ type: 'supervisor.start_child', spec: sut.spec('d', 'transient') });
    case 'STOP_D':
      return sut.actor.send({ type: 'supervisor.stop_child', id: 'd' });
    case 'SHUTDOWN':
      return sut.actor.send({ type: 'supervisor.shutdown' });
  }
}

/**
 * Scenarios from xstate/graph: the shortest path to every model state, and each of those extended by every event
 * enabled at its end, so that every transition of the model is exercised.
 */
function scenarios(strategy: Strategy): { reached: Set<string>; scenarios: Map<string, ModelEvent[]> } {
  const testModel = createTestModel(model, { events: ALL_EVENTS, input: { strategy } });
  const paths = testModel.getShortestPaths({ allowDuplicatePaths: true });
  const result = new Map<string, ModelEvent[]>();
  for (const path of paths) {
    const events = path.steps.map((s) => s.event).filter((e): e is ModelEvent => !e.type.startsWith('xstate.'));
    result.set(events.map((e) => e.type).join(' → ') || '(start)', events);
    for (const event of ALL_EVENTS) {
      if (path.state.status !== 'active' || !path.state.can(event)) continue;
      const extended = [...events, event];
      result.set(extended.map((e) => e.type).join(' → '), extended);
    }
  }
  return { reached: new Set(paths.map((p) => JSON.stringify(p.state.value))), scenarios: result };
}

afterEach(stopAllSupervisors);

describe.each<Strategy>(['one_for_one', 'one_for_all', 'rest_for_one'])('supervisor model under %s', (strategy) => {
  const { reached, scenarios: byName } = scenarios(strategy);

  it('reaches escalation and shutdown among its states', () => {
    expect(reached).toEqual(new Set(['"running"', '"stopped"', '"failed"']));
    expect(byName.size).toBeGreaterThan(20);
  });

  it.each([...byName.entries()])('%s: the real supervisor agrees with the model at every step', (_name, events) => {
    const sut = startSut(strategy);
    let [state] = initialTransition(model, { strategy });
    checkInvariants(sut, state);
    for (const event of events) {
      execute(sut, event);
      [state] = transition(model, state, event);
      checkInvariants(sut, state);
    }
  });
});
