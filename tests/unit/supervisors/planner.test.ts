import { initialState, plan, type PlanEnv, type SupervisionState } from '../../../src/supervisors/planner';
import type { ChildSpec, SupervisorPolicy } from '../../../src/supervisors/policy';
import { fromPromise } from 'xstate';

const logic = fromPromise(async () => undefined);
const spec = (id: string, overrides: Partial<ChildSpec> = {}): ChildSpec => ({
  id,
  logic,
  restart: 'permanent',
  shutdownMs: 100,
  ...overrides,
});
const policy: SupervisorPolicy = { strategy: 'rest_for_one', intensity: 3, periodMs: 10_000 };

function env(overrides: Partial<PlanEnv> = {}): PlanEnv {
  return {
    policy,
    maxChildren: 100,
    nowMs: 0,
    random: () => 0.5,
    isSystemIdTaken: () => false,
    actorEnded: () => true,
    ...overrides,
  };
}

function started(specs: ChildSpec[], e: PlanEnv = env()): SupervisionState {
  return plan(initialState(specs, 0), e, { kind: 'start' }).state;
}

describe('plan', () => {
  it('ignores an exit of an incarnation that is not the current actor (stopped by force as it finished)', () => {
    const state = started([spec('a')]);
    const result = plan(state, env({ actorEnded: () => false }), {
      kind: 'exit',
      mode: 'running',
      childId: 'a',
      exit: { kind: 'error', error: new Error('late') },
    });
    expect(result.effects).toEqual([]);
    expect(result.state.children).toEqual(state.children);
  });

  it('spawns the initial children in start order', () => {
    const result = plan(initialState([spec('a'), spec('b')], 0), env(), { kind: 'start' });
    expect(result.effects.map((e) => (e.kind === 'spawn' ? e.spec.id : e.kind))).toEqual(['a', 'b']);
    expect(result.state.children.map((c) => c.phase)).toEqual(['running', 'running']);
  });

  it('fails a child whose systemId is taken instead of letting XState throw, taking later ones into its group', () => {
    const result = plan(
      initialState([spec('a', { systemId: 'taken' }), spec('b')], 0),
      env({ isSystemIdTaken: (_id, s) => s === 'taken' }),
      {
        kind: 'start',
      },
    );
    const decisions = result.effects.flatMap((e) =>
      e.kind === 'decision' ? [[e.decision.directive, e.decision.errorCode]] : [],
    );
    // no backoff: a fails again at once each time, b waits in a's group, until intensity (3) runs out
    expect(decisions).toEqual([
      ['restart', 'supervisor.child_start_failed'],
      ['restart', 'supervisor.child_start_failed'],
      ['restart', 'supervisor.child_start_failed'],
      ['escalate', 'supervisor.child_start_failed'],
    ]);
    expect(result.effects.filter((e) => e.kind === 'spawn')).toEqual([]);
    expect(result.state.escalation).toMatchObject({ childId: 'a', reason: 'intensity' });
  });

  it('does not modify the state it is given', () => {
    const state = started([spec('a'), spec('b')]);
    const frozen = JSON.stringify(state.children.map((c) => ({ ...c, spec: c.spec.id })));
    plan(state, env(), { kind: 'exit', mode: 'running', childId: 'a', exit: { kind: 'normal' } });
    expect(JSON.stringify(state.children.map((c) => ({ ...c, spec: c.spec.id })))).toBe(frozen);
  });

  it('under rest_for_one asks the later sibling to stop before arming the restart', () => {
    const state = started([spec('a'), spec('b')]);
    const backoff = { minMs: 1_000, maxMs: 1_000, resetAfterMs: 0 };
    const afterFail = plan(state, env({ policy: { ...policy, backoff } }), {
      kind: 'exit',
      mode: 'running',
      childId: 'a',
      exit: { kind: 'error', error: new Error('x') },
    });
    expect(afterFail.effects.map((e) => e.kind)).toEqual(['stop', 'decision', 'ask_shutdown']);
    expect(afterFail.state.groups).toEqual([{ key: 'restart:a', ids: ['a', 'b'], delayMs: 1_000, armed: false }]);
    const afterB = plan(afterFail.state, env({ policy: { ...policy, backoff }, nowMs: 40 }), {
      kind: 'exit',
      mode: 'running',
      childId: 'b',
      exit: { kind: 'normal' },
    });
    expect(afterB.effects).toEqual([
      { kind: 'stop', childId: 'b' },
      { kind: 'cancel', timerId: 'shutdown:b' },
      { kind: 'arm_restart', key: 'restart:a', delayMs: 1_000 },
    ]);
  });
});
