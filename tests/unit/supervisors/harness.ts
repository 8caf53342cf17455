/**
 * Test support for the supervisor: a SimulatedClock that fires each timer at its own due time, probe children
 * that log what happens to them, and a recorder around a started supervisor.
 */
import { createNoopMeter } from '@opentelemetry/api';
import { MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { createActor, setup, SimulatedClock, type Actor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { Clock } from '../../../src/util/clock';
import { HordeError } from '../../../src/util/errors';
import {
  SupervisorMetrics,
  supervisorMachine,
  type ChildSpec,
  type RestartType,
  type SupervisorDecisionEvent,
  type SupervisorInput,
  type SupervisorRejectedEvent,
} from '../../../src/supervisors';

/**
 * XState's SimulatedClock jumps straight to the end of an `increment` before firing what fell due, so a handler
 * would read the end time. This one stops at every due time on the way, so time read by the supervisor is exact.
 */
export class SteppingClock extends SimulatedClock {
  private readonly due = new Map<number, number>();

  override setTimeout(fn: (...args: unknown[]) => void, timeoutMs: number): number {
    const dueMs = this.now() + timeoutMs;
    const id: number = super.setTimeout(() => {
      this.due.delete(id);
      fn();
    }, timeoutMs);
    this.due.set(id, dueMs);
    return id;
  }

  override clearTimeout(id: number): void {
    this.due.delete(id);
    super.clearTimeout(id);
  }

  /** Moves to `targetMs`, stopping at each due time on the way. */
  advanceTo(targetMs: number): void {
    for (;;) {
      const next = Math.min(...this.due.values());
      if (!Number.isFinite(next) || next > targetMs) break;
      this.set(Math.max(next, this.now()));
    }
    if (targetMs > this.now()) this.set(targetMs);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.now() + ms);
  }

  /** Due times of the timers still pending, ascending. */
  pendingDueTimes(): number[] {
    return [...this.due.values()].sort((a, b) => a - b);
  }

  /** Fires the earliest pending timer (and whatever falls due at the same time). False when none is pending. */
  fireNext(): boolean {
    const next = this.pendingDueTimes()[0];
    if (next === undefined) return false;
    this.advanceTo(next);
    return true;
  }

  /** The time as `src/util/clock.ts` reads it, for the supervisor's `clock` input. */
  asClock(): Clock {
    return { nowMs: () => this.now() };
  }
}

export class ProbeFailure extends HordeError {
  constructor(code = 'probe.failed') {
    super(code, `probe child failed (${code})`);
  }
}

/** How a probe child reacts to `supervisor.shutdown`. */
export type ShutdownBehaviour =
  | { kind: 'graceful' } // finishes at once
  | { kind: 'windDown'; afterMs: number } // finishes after afterMs
  | { kind: 'stubborn' }; // ignores it (must be stopped by force)

export interface LogEntry {
  atMs: number;
  child: string;
  what: 'started' | 'asked_to_shut_down';
}

export interface ProbeEvents {
  /** Makes the probe fail (throw) with this error. */
  fail: { type: 'test.fail'; error?: Error };
  /** Makes the probe complete normally. */
  complete: { type: 'test.complete' };
}

/** A machine child that logs its starts and shutdown requests, fails on `test.fail`, completes on `test.complete`. */
export function probeLogic(
  name: string,
  clock: SimulatedClock,
  log: LogEntry[],
  behaviour: ShutdownBehaviour = { kind: 'graceful' },
): AnyActorLogic {
  const onShutdown =
    behaviour.kind === 'graceful'
      ? { target: 'done', actions: 'asked' as const }
      : behaviour.kind === 'stubborn'
        ? { actions: 'asked' as const }
        : { target: 'windingDown', actions: 'asked' as const };
  return setup({
    types: { events: {} as ProbeEvents[keyof ProbeEvents] | { type: 'supervisor.shutdown' } },
    actions: {
      started: () => log.push({ atMs: clock.now(), child: name, what: 'started' }),
      asked: () => log.push({ atMs: clock.now(), child: name, what: 'asked_to_shut_down' }),
      boom: ({ event }) => {
        throw (event as ProbeEvents['fail']).error ?? new ProbeFailure();
      },
    },
    delays: { windDown: behaviour.kind === 'windDown' ? behaviour.afterMs : 0 },
  }).createMachine({
    id: `probe-${name}`,
    entry: 'started',
    initial: 'running',
    states: {
      running: {
        on: { 'test.fail': { actions: 'boom' }, 'test.complete': 'done', 'supervisor.shutdown': onShutdown },
      },
      windingDown: { after: { windDown: 'done' } },
      done: { type: 'final' },
    },
  });
}

export interface Harness {
  readonly clock: SteppingClock;
  readonly log: LogEntry[];
  readonly decisions: SupervisorDecisionEvent[];
  readonly rejections: SupervisorRejectedEvent[];
  readonly errors: unknown[];
  readonly actor: Actor<typeof supervisorMachine>;
  spec(id: string, restart: RestartType, options?: Partial<ChildSpec> & { behaviour?: ShutdownBehaviour }): ChildSpec;
  /** The child's live actor, if any. */
  child(id: string): AnyActorRef | undefined;
  fail(id: string, error?: Error): void;
  complete(id: string): void;
  /** Start times of a child, in order. */
  starts(id: string): number[];
  shutdownRequests(): string[];
}

const live = new Set<Actor<typeof supervisorMachine>>();
/** Tests that do not read metrics keep them off the global meter. */
const quietMetrics = new SupervisorMetrics(createNoopMeter());

/** Stops every supervisor the harness started (call in afterEach). */
export function stopAllSupervisors(): void {
  for (const actor of live) actor.stop();
  live.clear();
}

/**
 * Builds a supervisor on a stepping clock. `children` receives a spec factory bound to this harness's clock and log.
 */
export function startSupervisor(
  input: Omit<SupervisorInput, 'children' | 'clock'>,
  children: (spec: Harness['spec']) => ChildSpec[] = () => [],
  options: { start?: boolean } = {},
): Harness {
  const clock = new SteppingClock();
  const log: LogEntry[] = [];
  const decisions: SupervisorDecisionEvent[] = [];
  const rejections: SupervisorRejectedEvent[] = [];
  const errors: unknown[] = [];
  const spec: Harness['spec'] = (id, restart, { behaviour, ...rest } = {}) => ({
    id,
    logic: probeLogic(id, clock, log, behaviour),
    restart,
    shutdownMs: 1_000,
    ...rest,
  });
  const actor = createActor(supervisorMachine, {
    clock,
    input: { metrics: quietMetrics, ...input, clock: clock.asClock(), children: children(spec) },
  });
  live.add(actor);
  actor.on('supervisor.decision', (d) => decisions.push(d));
  actor.on('supervisor.rejected', (r) => rejections.push(r));
  actor.subscribe({ error: (e) => errors.push(e) });
  if (options.start !== false) actor.start();
  const child = (id: string): AnyActorRef | undefined =>
    (actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[id];
  const send = (id: string, event: { type: string; error?: Error }): void => {
    const ref = child(id);
    if (ref === undefined) throw new Error(`no live child ${id}`);
    ref.send(event);
  };
  return {
    clock,
    log,
    decisions,
    rejections,
    errors,
    actor,
    spec,
    child,
    fail: (id, error) => send(id, { type: 'test.fail', error }),
    complete: (id) => send(id, { type: 'test.complete' }),
    starts: (id) => log.filter((e) => e.child === id && e.what === 'started').map((e) => e.atMs),
    shutdownRequests: () => log.filter((e) => e.what === 'asked_to_shut_down').map((e) => e.child),
  };
}

/** The status of an actor's snapshot (`system.get` and `children` are typed `any`). */
export function statusOf(ref: AnyActorRef | undefined): string | undefined {
  return ref === undefined ? undefined : (ref.getSnapshot() as { status: string }).status;
}

/** A metric reader collected on demand (no timers). */
export class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}

  /** Sum data points of one instrument as `{ attributes, value }`. */
  async sums(name: string): Promise<Array<{ attributes: Record<string, unknown>; value: number }>> {
    const { resourceMetrics } = await this.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    if (metric === undefined) return [];
    return (metric as SumMetricData).dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
  }
}
