/**
 * Test doubles for the miner's machines: a controllable executor handle, the executor instance effects over it, and
 * actors that record what they are sent.
 */
import { createActor, fromCallback, fromPromise, SimulatedClock, type AnyActorLogic, type AnyActorRef, type EventObject } from 'xstate';
import type { ExecutorExit, ExecutorHandle, SpawnRequest } from '../../../src/actors/miner/backends/types';
import { executorInstanceMachine, type ExecutorTimings } from '../../../src/machines/executorInstance.machine';
import type { Clock } from '../../../src/util/clock';

/** Lets pending promise callbacks run (not a sleep: no time passes on any clock). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** An executor handle whose exit the test decides. */
export class FakeHandle implements ExecutorHandle {
  readonly id: string;
  readonly location = 'local';
  readonly publicAddress: string | undefined;
  readonly exited: Promise<ExecutorExit>;
  terminated = 0;
  killed = 0;
  swept = 0;
  alive = true;
  /** Containers the sweep reports as removed. */
  leftovers = 0;
  /** Exit on SIGTERM (true) or only on SIGKILL. */
  exitOnTerminate = true;
  private end!: (exit: ExecutorExit) => void;

  constructor(readonly request: SpawnRequest, publicAddress?: string) {
    this.id = `fake-${request.token}`;
    this.publicAddress = publicAddress;
    this.exited = new Promise((resolve) => (this.end = resolve));
  }

  /** Set by the fake watch: what a failed health check reports. */
  onVanish: (() => void) | undefined;

  /** The executor disappears without an exit report (a container removed behind our back). */
  vanish(): void {
    this.alive = false;
    this.onVanish?.();
  }

  exit(exit: ExecutorExit = { code: 0, signal: null }): void {
    this.alive = false;
    this.end(exit);
  }

  isAlive(): Promise<boolean> {
    return Promise.resolve(this.alive);
  }

  terminate(): Promise<void> {
    this.terminated += 1;
    if (this.exitOnTerminate) this.exit({ code: null, signal: 'SIGTERM' });
    return Promise.resolve();
  }

  kill(): Promise<void> {
    this.killed += 1;
    this.exit({ code: null, signal: 'SIGKILL' });
    return Promise.resolve();
  }

  sweep(): Promise<number> {
    this.swept += 1;
    return Promise.resolve(this.leftovers);
  }
}

/** A fake backend: spawns resolve when the test says (or at once), and every handle is kept. */
export class FakeBackend {
  readonly handles = new Map<string, FakeHandle>();
  readonly spawns: SpawnRequest[] = [];
  /** Spawns wait until released (`release(token)`), unless `instant`. */
  instant = true;
  failWith: Error | undefined;
  private readonly pending = new Map<string, { resolve: (h: FakeHandle) => void; reject: (e: Error) => void }>();
  aborted: string[] = [];

  spawn(request: SpawnRequest, signal: AbortSignal): Promise<FakeHandle> {
    this.spawns.push(request);
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    if (this.instant) return Promise.resolve(this.make(request));
    return new Promise((resolve, reject) => {
      this.pending.set(request.token, { resolve, reject });
      signal.addEventListener('abort', () => {
        this.aborted.push(request.token);
        reject(new Error('aborted'));
      });
    });
  }

  release(token: string): FakeHandle {
    const request = this.spawns.find((s) => s.token === token)!;
    const handle = this.make(request);
    this.pending.get(token)!.resolve(handle);
    return handle;
  }

  handle(token: string): FakeHandle {
    const handle = this.handles.get(token);
    if (handle === undefined) throw new Error(`no handle for ${token}`);
    return handle;
  }

  private make(request: SpawnRequest): FakeHandle {
    const handle = new FakeHandle(request);
    this.handles.set(request.token, handle);
    return handle;
  }
}

/** The executor instance machine with effects over a {@link FakeBackend} (health checks on XState's clock). */
export function fakeExecutorLogic(backend: FakeBackend) {
  return executorInstanceMachine.provide({
    actors: {
      spawnExecutor: fromPromise<ExecutorHandle, SpawnRequest>(({ input, signal }) => backend.spawn(input, signal)),
      watchExecutor: fromCallback<EventObject, { handle: ExecutorHandle; healthCheckIntervalMs: number }>(({ input, sendBack }) => {
        let stopped = false;
        void input.handle.exited.then((exit) => {
          if (!stopped) sendBack({ type: 'executor.watch.exited', exit });
        });
        (input.handle as FakeHandle).onVanish = () => {
          if (!stopped) sendBack({ type: 'executor.watch.vanished' });
        };
        return () => {
          stopped = true;
        };
      }),
      terminateExecutor: fromPromise<void, { handle: ExecutorHandle }>(({ input }) => input.handle.terminate()),
      killExecutor: fromPromise<void, { handle: ExecutorHandle }>(({ input }) => input.handle.kill()),
      sweepExecutor: fromPromise<number, { handle: ExecutorHandle; token: string }>(({ input }) => input.handle.sweep(new AbortController().signal)),
      reaper: fromCallback<{ type: 'reaper.track'; handle: ExecutorHandle } | { type: 'reaper.release' }>(({ receive }) => {
        let tracked: ExecutorHandle | undefined;
        receive((event) => {
          tracked = event.type === 'reaper.track' ? event.handle : undefined;
        });
        return () => void tracked?.kill();
      }),
    },
  });
}

/** Short timings for tests (every one distinct, so a test can tell which fired). */
export const TEST_TIMINGS: ExecutorTimings = {
  spinUpTimeoutMs: 3_000,
  ttlMs: 60_000,
  healthCheckIntervalMs: 1_000,
  stopGraceMs: 500,
  killConfirmTimeoutMs: 700,
  exitGraceAfterJobMs: 2_000,
  sweepTimeoutMs: 900,
};

/** A SimulatedClock and a wall clock that reads it. */
export function simulatedTime(startMs = 1_700_000_000_000): { sim: SimulatedClock; clock: Clock } {
  const sim = new SimulatedClock();
  sim.set(startMs);
  return { sim, clock: { nowMs: () => sim.now() } };
}

/** An actor that records every event it receives. */
export function recorder(): { logic: AnyActorLogic; events: EventObject[] } {
  const events: EventObject[] = [];
  const logic = fromCallback<EventObject>(({ receive }) => {
    receive((event) => {
      events.push(event);
    });
  });
  return { logic, events };
}

/** A started recording actor (its own system). */
export function recordingActor(): { ref: AnyActorRef; events: EventObject[] } {
  const { logic, events } = recorder();
  const ref = createActor(logic).start();
  return { ref, events };
}
