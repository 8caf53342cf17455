import { createActor, fromPromise } from 'xstate';
import { SupervisorPolicyError } from '../../../src/supervisors/errors';
import { leafSupervisorPolicy, rootSupervisorPolicy } from '../../../src/supervisors/defaults';
import {
  childSpecProblems,
  policyProblems,
  validatePolicy,
  type ChildSpec,
  type SupervisorPolicy,
} from '../../../src/supervisors/policy';
import { supervisorMachine } from '../../../src/supervisors/supervisor.machine';

const logic = fromPromise(async () => 'ok');
const child = (overrides: Partial<ChildSpec> = {}): ChildSpec => ({
  id: 'a',
  logic,
  restart: 'permanent',
  shutdownMs: 5_000,
  ...overrides,
});
const valid: SupervisorPolicy = { strategy: 'one_for_one', intensity: 5, periodMs: 30_000 };

/** Lets tests hand the validator the malformed input a config file could produce. */
const untyped = <T>(value: unknown): T => value as T;

describe('validatePolicy', () => {
  it('accepts the default leaf and root policies with valid children', () => {
    expect(() => validatePolicy(leafSupervisorPolicy(), [child(), child({ id: 'b', systemId: 'b' })])).not.toThrow();
    expect(() => validatePolicy(rootSupervisorPolicy('rest_for_one'))).not.toThrow();
  });

  it('lists every problem of the policy and its children at once', () => {
    const policy = untyped<SupervisorPolicy>({
      strategy: 'simple_one_for_one',
      intensity: -1,
      periodMs: 0,
      backoff: { minMs: 5_000, maxMs: 1_000, resetAfterMs: -1 },
      decider: 'restart',
    });
    const children = [
      child({ systemId: 'link' }),
      child({ restart: untyped('sometimes'), shutdownMs: -1, systemId: 'link' }),
      child({ id: '', logic: untyped({}), shutdownMs: Number.POSITIVE_INFINITY }),
    ];
    let thrown: unknown;
    try {
      validatePolicy(policy, children);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SupervisorPolicyError);
    const error = thrown as SupervisorPolicyError;
    expect(error.code).toBe('supervisor.invalid_policy');
    expect(error.problems).toEqual([
      'policy.strategy must be one of one_for_one | one_for_all | rest_for_one (got "simple_one_for_one")',
      'policy.intensity must be an integer >= 0 (got -1)',
      'policy.periodMs must be a finite number > 0 (got 0)',
      'policy.backoff.minMs (5000) must be <= policy.backoff.maxMs (1000)',
      'policy.backoff.resetAfterMs must be a finite number >= 0 (got -1)',
      'policy.decider must be a function when given (got "restart")',
      'children[1].restart must be one of permanent | transient | temporary (got "sometimes")',
      'children[1].shutdownMs must be a finite number >= 0 (got -1)',
      'children[1].id "a" duplicates children[0].id',
      'children[1].systemId "link" duplicates children[0].systemId',
      'children[2].id must be a non-empty string (got "")',
      'children[2].logic must be actor logic (a machine, fromPromise, fromCallback …) (got an object)',
      'children[2].shutdownMs must be a finite number >= 0 (got Infinity)',
    ]);
    expect(error.message).toContain('policy.intensity must be an integer >= 0 (got -1); policy.periodMs');
  });

  it.each([
    [{ ...valid, intensity: 1.5 }, 'policy.intensity must be an integer >= 0 (got 1.5)'],
    [{ ...valid, periodMs: Number.NaN }, 'policy.periodMs must be a finite number > 0 (got NaN)'],
    [
      { ...valid, backoff: { minMs: 0, maxMs: 10, resetAfterMs: 0 } },
      'policy.backoff.minMs must be a finite number > 0 (got 0)',
    ],
    [
      { ...valid, backoff: { minMs: 1, maxMs: Number.POSITIVE_INFINITY, resetAfterMs: 0 } },
      'policy.backoff.maxMs must be a finite number > 0 (got Infinity)',
    ],
    [{ ...valid, backoff: 1_000 }, 'policy.backoff must be an object when given (got 1000)'],
    [null, 'policy must be an object (got null)'],
  ])('rejects %j', (policy, problem) => {
    expect(policyProblems(policy, [])).toEqual([problem]);
  });

  it('checks maxChildren and the number of initial children against it', () => {
    expect(policyProblems(valid, [child(), child({ id: 'b' })], { maxChildren: 1 })).toEqual([
      'children has 2 entries, more than maxChildren (1)',
    ]);
    expect(policyProblems(valid, [], { maxChildren: 0 })).toEqual(['maxChildren must be an integer >= 1 (got 0)']);
  });

  it('rejects children that are not a list', () => {
    expect(policyProblems(valid, untyped({ a: child() }))).toEqual(['children must be an array (got an object)']);
  });

  it('accepts shutdownMs 0 (stop by force at once) and intensity 0 (never restart)', () => {
    expect(policyProblems({ ...valid, intensity: 0 }, [child({ shutdownMs: 0 })])).toEqual([]);
  });
});

describe('childSpecProblems', () => {
  it('names fields under the given path', () => {
    expect(
      childSpecProblems(untyped({ id: 7, logic, restart: 'permanent', shutdownMs: 1, systemId: '' }), 'spec'),
    ).toEqual([
      'spec.id must be a non-empty string (got 7)',
      'spec.systemId must be a non-empty string when given (got "")',
    ]);
    expect(childSpecProblems(undefined, 'spec')).toEqual(['spec must be an object (got undefined)']);
  });
});

describe('a supervisor with an invalid policy', () => {
  it('fails at creation with SupervisorPolicyError and starts no child', () => {
    const start = jest.fn(async () => 'started');
    const actor = createActor(supervisorMachine, {
      input: { policy: { ...valid, intensity: -1 }, children: [child({ logic: fromPromise(start) })] },
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SupervisorPolicyError);
    expect(start).not.toHaveBeenCalled();
    actor.stop();
  });
});
