/**
 * Model-based test of the miner's executor pool (its reservation desk, the pool machine and its executor instances over
 * a fake backend).
 *
 * fast-check generates command sequences — reserve, executor exits, job over, time passes past the exit grace,
 * drain, kill all — and runs each on a fresh pool over a SimulatedClock. A plain model states what must hold:
 * - every reservation at the desk is granted exactly when a slot was free and the pool not draining;
 * - a slot is held from the grant until its executor has exited (never longer, never shorter);
 * - the pool never holds more slots than its capacity;
 * - an executor whose job is over is killed once the exit grace has passed.
 */
import fc from 'fast-check';
import { createActor, type EventObject } from 'xstate';
import { EXECUTOR_SPAWN_QUIET_MS } from '../../src/actors/miner/defaults';
import { ReservationDesk } from '../../src/machines/executorPool.desk';
import { executorPoolMachine } from '../../src/machines/executorPool.machine';
import { FakeBackend, fakeExecutorLogic, flush, recordingActor, simulatedTime, TEST_TIMINGS } from '../unit/miner/fakes';

const CAPACITY = 3;
const TIMINGS = { ...TEST_TIMINGS, ttlMs: 10 * 60_000 };

interface Model {
  /** Tokens holding a slot, with whether their job is over. */
  held: Map<string, { jobOver: boolean }>;
  draining: boolean;
  next: number;
}

interface Real {
  pool: ReturnType<typeof startPool>['pool'];
  desk: ReservationDesk;
  sim: ReturnType<typeof startPool>['sim'];
  backend: FakeBackend;
  replies: EventObject[];
}

function startPool() {
  const { sim, clock } = simulatedTime();
  const backend = new FakeBackend();
  const desk = new ReservationDesk('always_on.test', CAPACITY, () => clock.nowMs());
  const pool = createActor(executorPoolMachine.provide({ actors: { executor: fakeExecutorLogic(backend) } }), {
    input: { executorClass: 'always_on.test', desk, timings: TIMINGS, clock },
    clock: sim,
  }).start();
  return { pool, desk, sim, backend };
}

async function check(model: Model, real: Real): Promise<void> {
  await flush(3);
  const context = real.pool.getSnapshot().context;
  expect(real.desk.held).toBe(model.held.size);
  expect(real.desk.pendingCount).toBe(0);
  expect([...context.executors].sort()).toEqual([...model.held.keys()].sort());
  expect(real.desk.held).toBeLessThanOrEqual(CAPACITY);
}

class Reserve implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const token = `t${model.next++}`;
    const job = recordingActor();
    const outcome = real.desk.reserve(token, token);
    if (outcome === 'reserved') real.desk.bind(token, job.ref);
    real.sim.increment(EXECUTOR_SPAWN_QUIET_MS);
    const granted = !model.draining && model.held.size < CAPACITY;
    expect(outcome).toBe(granted ? 'reserved' : model.draining ? 'draining' : 'busy');
    job.ref.stop();
    if (granted) model.held.set(token, { jobOver: false });
    await check(model, real);
  }
  toString = () => 'reserve';
}

class ExecutorExits implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.held.size > 0;
  async run(model: Model, real: Real): Promise<void> {
    const token = [...model.held.keys()][this.pick % model.held.size]!;
    real.backend.handle(token).exit({ code: 0, signal: null });
    model.held.delete(token);
    await check(model, real);
  }
  toString = () => `exit(${this.pick})`;
}

class JobOver implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.held.size > 0;
  async run(model: Model, real: Real): Promise<void> {
    const token = [...model.held.keys()][this.pick % model.held.size]!;
    real.pool.send({ type: 'pool.job_over', token });
    model.held.get(token)!.jobOver = true;
    await check(model, real);
  }
  toString = () => `jobOver(${this.pick})`;
}

class GracePasses implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.sim.increment(TIMINGS.exitGraceAfterJobMs);
    await flush(3);
    for (const [token, slot] of [...model.held]) {
      if (!slot.jobOver) continue;
      // Killed (SIGTERM; the fake executor exits on it) once its grace is over.
      expect(real.backend.handle(token).terminated).toBe(1);
      model.held.delete(token);
    }
    await check(model, real);
  }
  toString = () => 'grace';
}

class Drain implements fc.AsyncCommand<Model, Real> {
  check = (model: Readonly<Model>) => !model.draining;
  async run(model: Model, real: Real): Promise<void> {
    real.pool.send({ type: 'pool.drain' });
    model.draining = true;
    await check(model, real);
  }
  toString = () => 'drain';
}

class KillAll implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.pool.send({ type: 'pool.kill_all' });
    model.draining = true;
    model.held.clear();
    await check(model, real);
  }
  toString = () => 'killAll';
}

const commands = [
  fc.constant(new Reserve()),
  fc.constant(new Reserve()),
  fc.nat(10).map((n) => new ExecutorExits(n)),
  fc.nat(10).map((n) => new JobOver(n)),
  fc.constant(new GracePasses()),
  fc.constant(new Drain()),
  fc.constant(new KillAll()),
];

describe('executor pool model', () => {
  it('holds a slot exactly from reservation to executor exit, and answers every reservation once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (cmds) => {
        const { pool, desk, sim, backend } = startPool();
        try {
          await fc.asyncModelRun(() => ({ model: { held: new Map(), draining: false, next: 0 }, real: { pool, desk, sim, backend, replies: [] } }), cmds);
        } finally {
          pool.stop();
        }
      }),
      { numRuns: 60 },
    );
  });
});
