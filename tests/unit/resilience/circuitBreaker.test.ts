/**
 * Circuit breaker: the pure transitions over time (table-driven scripts), policy validation, and the
 * `CircuitBreaker` class on a manual clock.
 */
import {
  CircuitBreaker,
  admitRequest,
  circuitBreakerPolicy,
  circuitCoolDownMs,
  circuitPolicyProblems,
  initialCircuitState,
  recordFailure,
  recordSuccess,
  tickCircuit,
  type CircuitBreakerPolicy,
  type CircuitPhase,
  type CircuitState,
  type CircuitTransition,
} from '../../../src/resilience/circuitBreaker';
import { DEFAULT_CIRCUIT_BREAKER_POLICY } from '../../../src/resilience/defaults';
import { CircuitOpenError, CircuitPolicyError } from '../../../src/resilience/errors';
import type { CircuitMetrics } from '../../../src/resilience/metrics';
import { manualClock } from '../../../src/util/clock';

const policy = circuitBreakerPolicy({
  failureThreshold: 3,
  failureWindowMs: 10_000,
  coolDownMs: 1_000,
  coolDownMultiplier: 2,
  maxCoolDownMs: 5_000,
  halfOpenProbes: 1,
  probeTimeoutMs: 2_000,
});

/** One scripted step: at time `atMs`, do `op`; then expect `phase` (and, for requests, the admission). */
type Op = 'fail' | 'succeed' | 'request';
type ScriptStep = [atMs: number, op: Op, phase: CircuitPhase, allowed?: boolean];

function play(p: CircuitBreakerPolicy, script: readonly ScriptStep[]): CircuitState {
  let state = initialCircuitState();
  for (const [atMs, op, phase, allowed] of script) {
    state = tickCircuit(p, state, atMs);
    if (op === 'fail') state = recordFailure(p, state, atMs);
    if (op === 'succeed') state = recordSuccess(p, state);
    if (op === 'request') {
      const answer = admitRequest(p, state, atMs);
      state = answer.state;
      expect({ atMs, allowed: answer.admission.allowed }).toEqual({ atMs, allowed });
    }
    expect({ atMs, op, phase: state.phase }).toEqual({ atMs, op, phase });
  }
  return state;
}

describe('circuit breaker transitions over time', () => {
  it.each<[string, ScriptStep[]]>([
    [
      'opens on the third failure within the window',
      [
        [0, 'fail', 'closed'],
        [4_000, 'fail', 'closed'],
        [9_999, 'fail', 'open'],
        [9_999, 'request', 'open', false],
      ],
    ],
    [
      'stays closed when the failures are spread wider than the window',
      [
        [0, 'fail', 'closed'],
        [5_000, 'fail', 'closed'],
        [10_000, 'fail', 'closed'], // the first failure has left the window
        [14_999, 'fail', 'open'],
      ],
    ],
    [
      'does not forget failures on success (a count within a window, not consecutive failures)',
      [
        [0, 'fail', 'closed'],
        [1, 'succeed', 'closed'],
        [2, 'fail', 'closed'],
        [3, 'succeed', 'closed'],
        [4, 'fail', 'open'],
      ],
    ],
    [
      'goes half-open after the cool-down and closes on a successful probe',
      [
        [0, 'fail', 'closed'],
        [0, 'fail', 'closed'],
        [0, 'fail', 'open'],
        [999, 'request', 'open', false],
        [1_000, 'request', 'half_open', true],
        [1_000, 'request', 'half_open', false], // the single probe slot is taken
        [1_200, 'succeed', 'closed'],
        [1_200, 'request', 'closed', true],
      ],
    ],
    [
      're-opens on a failed probe with a doubled cool-down',
      [
        [0, 'fail', 'closed'],
        [0, 'fail', 'closed'],
        [0, 'fail', 'open'],
        [1_000, 'request', 'half_open', true],
        [1_500, 'fail', 'open'],
        [3_499, 'request', 'open', false],
        [3_500, 'request', 'half_open', true],
      ],
    ],
    [
      'frees a probe slot when the probe stays silent past probeTimeoutMs',
      [
        [0, 'fail', 'closed'],
        [0, 'fail', 'closed'],
        [0, 'fail', 'open'],
        [1_000, 'request', 'half_open', true],
        [2_999, 'request', 'half_open', false],
        [3_000, 'request', 'half_open', true],
      ],
    ],
    [
      'ignores failures while open (stragglers do not extend the cool-down)',
      [
        [0, 'fail', 'closed'],
        [0, 'fail', 'closed'],
        [0, 'fail', 'open'],
        [500, 'fail', 'open'],
        [1_000, 'request', 'half_open', true],
      ],
    ],
  ])('%s', (_title, script) => {
    play(policy, script);
  });

  it('needs every one of K probes to succeed before closing', () => {
    const twoProbes = circuitBreakerPolicy({ ...policy, halfOpenProbes: 2 });
    play(twoProbes, [
      [0, 'fail', 'closed'],
      [0, 'fail', 'closed'],
      [0, 'fail', 'open'],
      [1_000, 'request', 'half_open', true],
      [1_000, 'request', 'half_open', true],
      [1_000, 'request', 'half_open', false],
      [1_100, 'succeed', 'half_open'],
      [1_200, 'succeed', 'closed'],
    ]);
  });

  it.each<[number, number]>([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 5_000],
    [60, 5_000],
  ])('grows the cool-down of open #%i to %i ms, capped', (opens, expectedMs) => {
    expect(circuitCoolDownMs(policy, opens)).toBe(expectedMs);
  });

  it('resets the cool-down growth once it closes', () => {
    let state = play(policy, [
      [0, 'fail', 'closed'],
      [0, 'fail', 'closed'],
      [0, 'fail', 'open'],
      [1_000, 'request', 'half_open', true],
      [1_000, 'fail', 'open'],
      [3_000, 'request', 'half_open', true],
      [3_000, 'succeed', 'closed'],
    ]);
    for (const at of [4_000, 4_000, 4_000]) state = recordFailure(policy, state, at);
    expect(state).toMatchObject({ phase: 'open', coolDownMs: 1_000, consecutiveOpens: 1 });
  });

  it('ignores outcomes reported with the generation of an earlier phase', () => {
    let state = initialCircuitState();
    const admitted = admitRequest(policy, state, 0).admission;
    if (!admitted.allowed) throw new Error('closed breakers admit');
    for (let i = 0; i < 3; i++) state = recordFailure(policy, state, 0);
    state = tickCircuit(policy, state, 1_000);
    const probe = admitRequest(policy, state, 1_000);
    state = probe.state;
    expect(state.phase).toBe('half_open');
    // The slow call admitted while closed answers now: it must not pose as the probe.
    expect(recordSuccess(policy, state, admitted.generation)).toBe(state);
    expect(recordFailure(policy, state, 1_000, admitted.generation)).toBe(state);
    if (!probe.admission.allowed) throw new Error('probe expected');
    expect(recordSuccess(policy, state, probe.admission.generation).phase).toBe('closed');
  });

  it('says when an open breaker will admit again', () => {
    let state = initialCircuitState();
    for (let i = 0; i < 3; i++) state = recordFailure(policy, state, 100);
    expect(admitRequest(policy, state, 400).admission).toEqual({ allowed: false, retryInMs: 700 });
  });

  it('keeps at most failureThreshold timestamps per breaker', () => {
    const wide = circuitBreakerPolicy({ ...policy, failureThreshold: 3, failureWindowMs: 10 });
    let state = initialCircuitState();
    for (let at = 0; at < 1_000; at += 10) state = recordFailure(wide, state, at);
    expect(state.phase).toBe('closed');
    expect(state.failureTimesMs.length).toBeLessThanOrEqual(3);
  });
});

describe('circuit breaker policy validation', () => {
  it.each<[string, unknown, string[]]>([
    ['a zero threshold', { ...DEFAULT_CIRCUIT_BREAKER_POLICY, failureThreshold: 0 }, ['circuitBreaker.failureThreshold must be an integer >= 1']],
    ['a zero window', { ...DEFAULT_CIRCUIT_BREAKER_POLICY, failureWindowMs: 0 }, ['circuitBreaker.failureWindowMs must be a finite number > 0']],
    [
      'a cap below the cool-down',
      { ...DEFAULT_CIRCUIT_BREAKER_POLICY, coolDownMs: 10_000, maxCoolDownMs: 5_000 },
      ['circuitBreaker.maxCoolDownMs (5000) cannot be less than coolDownMs (10000)'],
    ],
    ['a shrinking multiplier', { ...DEFAULT_CIRCUIT_BREAKER_POLICY, coolDownMultiplier: 0.5 }, ['circuitBreaker.coolDownMultiplier must be a finite number >= 1']],
    ['fractional probes', { ...DEFAULT_CIRCUIT_BREAKER_POLICY, halfOpenProbes: 1.5 }, ['circuitBreaker.halfOpenProbes must be an integer >= 1']],
    ['a misspelt field', { ...DEFAULT_CIRCUIT_BREAKER_POLICY, threshold: 5 }, ['circuitBreaker.threshold is not a circuit breaker policy field']],
    ['not an object', null, ['circuitBreaker must be an object']],
  ])('rejects %s precisely', (_title, candidate, problems) => {
    expect(circuitPolicyProblems(candidate)).toEqual(problems);
  });

  it('accepts the defaults and throws CircuitPolicyError for a bad override', () => {
    expect(circuitPolicyProblems(DEFAULT_CIRCUIT_BREAKER_POLICY)).toEqual([]);
    expect(() => circuitBreakerPolicy({ halfOpenProbes: 0 })).toThrow(CircuitPolicyError);
  });
});

describe('CircuitBreaker (class)', () => {
  function recordingMetrics(): CircuitMetrics & { log: string[] } {
    const log: string[] = [];
    return {
      log,
      phase: (name, phase) => log.push(`phase ${name} ${phase}`),
      transition: ({ name, from, to }) => log.push(`transition ${name} ${from}->${to}`),
      rejected: (name) => log.push(`rejected ${name}`),
    };
  }

  function setup(overrides: Partial<CircuitBreakerPolicy> = {}) {
    const clock = manualClock(1_000_000);
    const metrics = recordingMetrics();
    const transitions: CircuitTransition[] = [];
    const breaker = new CircuitBreaker({
      name: 'miner-5F',
      policy: { ...policy, ...overrides },
      clock,
      metrics,
      onTransition: (t) => transitions.push(t),
    });
    return { clock, metrics, transitions, breaker };
  }

  it('walks closed → open → half_open → closed, reporting each change with its time', async () => {
    const { clock, breaker, transitions, metrics } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    expect(breaker.allowRequest()).toBe(false);
    clock.advance(1_000);
    await expect(breaker.run(async () => 'manifest')).resolves.toBe('manifest');
    expect(breaker.phase).toBe('closed');
    expect(transitions).toEqual([
      { name: 'miner-5F', from: 'closed', to: 'open', atMs: 1_000_000 },
      { name: 'miner-5F', from: 'open', to: 'half_open', atMs: 1_001_000 },
      { name: 'miner-5F', from: 'half_open', to: 'closed', atMs: 1_001_000 },
    ]);
    expect(metrics.log).toEqual([
      'phase miner-5F closed',
      'transition miner-5F closed->open',
      'rejected miner-5F',
      'transition miner-5F open->half_open',
      'transition miner-5F half_open->closed',
    ]);
  });

  it('refuses with CircuitOpenError carrying the wait, without calling the function', async () => {
    const { clock, breaker } = setup();
    breaker.trip();
    clock.advance(250);
    const fn = jest.fn(async () => 'never');
    const error = await breaker.run(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ code: 'circuit.open', breaker: 'miner-5F', retryInMs: 750 });
    expect(fn).not.toHaveBeenCalled();
  });

  it('counts a failed run against the peer and rethrows its error', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const boom = new Error('ECONNRESET');
    await expect(breaker.run(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(breaker.phase).toBe('open');
  });

  it('does not count errors that isFailure excuses (the peer answered)', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const notFound = Object.assign(new Error('404'), { code: 'http.not_found' });
    await expect(breaker.run(() => Promise.reject(notFound), (e) => (e as { code?: string }).code !== 'http.not_found')).rejects.toBe(
      notFound,
    );
    expect(breaker.phase).toBe('closed');
  });

  it('reports the half-open change that happened while idle when the next failure re-opens it', () => {
    const { clock, breaker, transitions } = setup();
    breaker.trip();
    clock.advance(5_000);
    breaker.recordFailure();
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['closed->open', 'open->half_open', 'half_open->open']);
    expect(breaker.state.coolDownMs).toBe(2_000);
  });

  it('can be reset by hand, forgetting its history', () => {
    const { breaker } = setup();
    breaker.trip();
    breaker.reset();
    expect(breaker.state).toMatchObject({ phase: 'closed', consecutiveOpens: 0, failureTimesMs: [] });
  });
});
