/**
 * The circuit breaker machine on a SimulatedClock: its cool-down timer, emitted events, metrics hooks, and that
 * stopping it leaves no timer behind.
 */
import { createActor, type Actor } from 'xstate';
import { admitThrough, circuitBreakerMachine, type CircuitBreakerEmitted } from '../../../src/machines/circuitBreaker.machine';
import type { CircuitBreakerPolicy } from '../../../src/resilience/circuitBreaker';
import { instrumentedCircuitBreakerMachine } from '../../../src/resilience/instrumentedCircuitBreaker';
import type { CircuitMetrics } from '../../../src/resilience/metrics';
import { testTime, type TestTime } from '../../support/resilienceClock';

const policy: Partial<CircuitBreakerPolicy> = {
  failureThreshold: 2,
  failureWindowMs: 60_000,
  coolDownMs: 1_000,
  coolDownMultiplier: 2,
  maxCoolDownMs: 8_000,
  halfOpenProbes: 1,
};

const actors: Array<Actor<typeof circuitBreakerMachine>> = [];
afterEach(() => {
  for (const actor of actors.splice(0)) actor.stop();
});

function start(time: TestTime, machine = circuitBreakerMachine) {
  const emitted: CircuitBreakerEmitted[] = [];
  const actor = createActor(machine, {
    input: { name: 'facilitator', policy, clock: time.clock },
    clock: time.timers,
  });
  actor.on('*', (event) => emitted.push(event));
  actors.push(actor);
  actor.start();
  return { actor, emitted };
}

describe('circuitBreakerMachine', () => {
  it('opens after the threshold and goes half-open by its own timer, without any request', () => {
    const time = testTime();
    const { actor, emitted } = start(time);
    actor.send({ type: 'circuit.failure' });
    expect(actor.getSnapshot().value).toBe('closed');
    actor.send({ type: 'circuit.failure' });
    expect(actor.getSnapshot().value).toBe('open');
    time.xstateClock.increment(999);
    expect(actor.getSnapshot().value).toBe('open');
    time.xstateClock.increment(1);
    expect(actor.getSnapshot().value).toBe('half_open');
    expect(emitted).toEqual([
      { type: 'circuit.transition', name: 'facilitator', from: 'closed', to: 'open', atMs: 0 },
      { type: 'circuit.transition', name: 'facilitator', from: 'open', to: 'half_open', atMs: 1_000 },
    ]);
  });

  it('answers allowRequest through admitThrough, emitting each refusal', () => {
    const time = testTime();
    const { actor, emitted } = start(time);
    expect(admitThrough(actor)).toEqual({ allowed: true, generation: 0, probe: false });
    actor.send({ type: 'circuit.trip' });
    time.xstateClock.increment(400);
    expect(admitThrough(actor)).toEqual({ allowed: false, retryInMs: 600 });
    expect(emitted.at(-1)).toEqual({ type: 'circuit.rejected', name: 'facilitator', retryInMs: 600 });
  });

  it('closes after a successful probe and re-opens with a longer cool-down after a failed one', () => {
    const time = testTime();
    const { actor } = start(time);
    actor.send({ type: 'circuit.trip' });
    time.xstateClock.increment(1_000);
    const probe = admitThrough(actor);
    if (!probe.allowed) throw new Error('probe expected');
    expect(admitThrough(actor).allowed).toBe(false);
    actor.send({ type: 'circuit.failure', generation: probe.generation });
    expect(actor.getSnapshot().value).toBe('open');
    expect(actor.getSnapshot().context.circuit.coolDownMs).toBe(2_000);
    time.xstateClock.increment(1_999);
    expect(actor.getSnapshot().value).toBe('open');
    time.xstateClock.increment(1);
    const second = admitThrough(actor);
    if (!second.allowed) throw new Error('probe expected');
    actor.send({ type: 'circuit.success', generation: second.generation });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().context.circuit.consecutiveOpens).toBe(0);
  });

  it('ignores an outcome from a call admitted in an earlier phase', () => {
    const time = testTime();
    const { actor } = start(time);
    const early = admitThrough(actor);
    if (!early.allowed) throw new Error('closed admits');
    actor.send({ type: 'circuit.trip' });
    time.xstateClock.increment(1_000);
    admitThrough(actor);
    actor.send({ type: 'circuit.success', generation: early.generation });
    expect(actor.getSnapshot().value).toBe('half_open');
  });

  it('restarts the cool-down when tripped again while open', () => {
    const time = testTime();
    const { actor } = start(time);
    actor.send({ type: 'circuit.trip' });
    time.xstateClock.increment(900);
    actor.send({ type: 'circuit.trip' });
    expect(actor.getSnapshot().context.circuit.coolDownMs).toBe(2_000);
    time.xstateClock.increment(1_999);
    expect(actor.getSnapshot().value).toBe('open');
    time.xstateClock.increment(1);
    expect(actor.getSnapshot().value).toBe('half_open');
    expect(time.timers.pending).toBe(0);
  });

  it('leaves no timer behind when stopped while open', () => {
    const time = testTime();
    const { actor } = start(time);
    actor.send({ type: 'circuit.trip' });
    expect(time.timers.pending).toBe(1);
    actor.stop();
    expect(time.timers.pending).toBe(0);
  });

  it('can be reset from open, cancelling the cool-down', () => {
    const time = testTime();
    const { actor } = start(time);
    actor.send({ type: 'circuit.trip' });
    actor.send({ type: 'circuit.reset' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(time.timers.pending).toBe(0);
  });

  it('records state, transitions and refusals through the provided metrics', () => {
    const time = testTime();
    const log: string[] = [];
    const metrics: CircuitMetrics = {
      phase: (name, phase) => log.push(`phase ${name} ${phase}`),
      transition: ({ from, to }) => log.push(`${from}->${to}`),
      rejected: (name) => log.push(`rejected ${name}`),
    };
    const { actor } = start(time, instrumentedCircuitBreakerMachine(metrics));
    actor.send({ type: 'circuit.failure' });
    actor.send({ type: 'circuit.failure' });
    admitThrough(actor);
    time.xstateClock.increment(1_000);
    expect(log).toEqual(['phase facilitator closed', 'closed->open', 'rejected facilitator', 'open->half_open']);
  });

  it('fails to start with a precise error when the policy is invalid', () => {
    const time = testTime();
    const actor = createActor(circuitBreakerMachine, {
      input: { name: 'bad', policy: { failureThreshold: 0 }, clock: time.clock },
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect(errors[0]).toMatchObject({ code: 'circuit.invalid_policy' });
  });
});

describe('admitThrough', () => {
  it('refuses with CircuitNotRunningError once the breaker is stopped', () => {
    const time = testTime();
    const actor = createActor(circuitBreakerMachine, { input: { name: 'gone', clock: time.clock }, clock: time.timers }).start();
    expect(admitThrough(actor).allowed).toBe(true);
    actor.stop();
    expect(() => admitThrough(actor)).toThrow(expect.objectContaining({ code: 'circuit.not_running' }) as Error);
  });
});
