/**
 * Every instrument of the resilience area (retries, circuit breakers, task groups), created in one place from an
 * injected meter. Names follow `horde_<entity>_<measure>_<unit>`; the Prometheus exporter appends `_total` to
 * counters, so `horde_circuit_transitions` is scraped as `horde_circuit_transitions_total`.
 *
 * Each area gets a small recording interface rather than raw instruments, so that callers (and tests) can pass a
 * fake, and so that hundreds of breakers share one set of instruments.
 */
import type { Meter } from '@opentelemetry/api';
import { hordeMeter } from '../telemetry/meter';
import { CIRCUIT_PHASE_GAUGE_VALUE, type CircuitPhase, type CircuitTransition } from './circuitBreaker';

export const RETRY_RETRIES = 'horde_retry_retries';
export const RETRY_EXHAUSTED = 'horde_retry_exhausted';
export const CIRCUIT_STATE = 'horde_circuit_state';
export const CIRCUIT_TRANSITIONS = 'horde_circuit_transitions';
export const CIRCUIT_REJECTED = 'horde_circuit_rejected';
export const TASKGROUP_CHILDREN = 'horde_taskgroup_children';
export const TASKGROUP_CHILD_DURATION_MS = 'horde_taskgroup_child_duration_ms';
export const TASKGROUP_DURATION_MS = 'horde_taskgroup_duration_ms';

/** What `retrying()` records. */
export interface RetryMetrics {
  /** A retry was scheduled (`horde_retry_retries_total{name}`). */
  retried(name: string): void;
  /** The chain gave up (`horde_retry_exhausted_total{name,reason}`). */
  exhausted(name: string, reason: 'non_retryable' | 'maximum_attempts'): void;
}

/** What a circuit breaker (class or machine) records. */
export interface CircuitMetrics {
  /** Current phase (`horde_circuit_state{name}`: 0 closed, 1 half-open, 2 open). */
  phase(name: string, phase: CircuitPhase): void;
  /** A phase change (`horde_circuit_transitions_total{name,from,to}`); also updates the state gauge. */
  transition(transition: CircuitTransition): void;
  /** A request refused (`horde_circuit_rejected_total{name}`). */
  rejected(name: string): void;
}

/** The settled statuses a task group reports (see src/actors/taskGroup). */
export type TaskOutcome = 'done' | 'failed' | 'timed_out' | 'cancelled';

/** What a task group records. */
export interface TaskGroupMetrics {
  /** A child settled (`horde_taskgroup_children_total{outcome}`, and its run time when it ran). */
  childSettled(outcome: TaskOutcome, durationMs: number | undefined): void;
  /** The group finished (`horde_taskgroup_duration_ms{reason}`). */
  groupFinished(reason: string, durationMs: number): void;
}

export function createRetryMetrics(meter: Meter = hordeMeter()): RetryMetrics {
  const retries = meter.createCounter(RETRY_RETRIES, { description: 'retries scheduled by retrying(), by name' });
  const exhausted = meter.createCounter(RETRY_EXHAUSTED, {
    description: 'retry chains that gave up, by name and reason (non_retryable | maximum_attempts)',
  });
  return {
    retried: (name) => retries.add(1, { name }),
    exhausted: (name, reason) => exhausted.add(1, { name, reason }),
  };
}

export function createCircuitMetrics(meter: Meter = hordeMeter()): CircuitMetrics {
  const state = meter.createGauge(CIRCUIT_STATE, {
    description: 'circuit breaker phase by name: 0 closed, 1 half-open, 2 open',
  });
  const transitions = meter.createCounter(CIRCUIT_TRANSITIONS, {
    description: 'circuit breaker phase changes, by name, from and to',
  });
  const rejected = meter.createCounter(CIRCUIT_REJECTED, {
    description: 'requests refused by an open (or saturated half-open) circuit breaker, by name',
  });
  return {
    phase: (name, phase) => state.record(CIRCUIT_PHASE_GAUGE_VALUE[phase], { name }),
    transition: ({ name, from, to }) => {
      transitions.add(1, { name, from, to });
      state.record(CIRCUIT_PHASE_GAUGE_VALUE[to], { name });
    },
    rejected: (name) => rejected.add(1, { name }),
  };
}

export function createTaskGroupMetrics(meter: Meter = hordeMeter()): TaskGroupMetrics {
  const children = meter.createCounter(TASKGROUP_CHILDREN, { description: 'task group children settled, by outcome' });
  const childDuration = meter.createHistogram(TASKGROUP_CHILD_DURATION_MS, {
    description: 'run time of task group children that started, by outcome',
    unit: 'ms',
  });
  const groupDuration = meter.createHistogram(TASKGROUP_DURATION_MS, {
    description: 'task group start-to-finish time, by reason (completed | fail_fast | deadline | cancelled)',
    unit: 'ms',
  });
  return {
    childSettled: (outcome, durationMs) => {
      children.add(1, { outcome });
      if (durationMs !== undefined) childDuration.record(durationMs, { outcome });
    },
    groupFinished: (reason, durationMs) => groupDuration.record(durationMs, { reason }),
  };
}

let retryDefault: RetryMetrics | undefined;
let circuitDefault: CircuitMetrics | undefined;
let taskGroupDefault: TaskGroupMetrics | undefined;

/** Process-wide retry instruments on `hordeMeter()`, created on first use. */
export function retryMetrics(): RetryMetrics {
  retryDefault ??= createRetryMetrics();
  return retryDefault;
}

/** Process-wide circuit breaker instruments on `hordeMeter()`, created on first use (share it across breakers). */
export function circuitMetrics(): CircuitMetrics {
  circuitDefault ??= createCircuitMetrics();
  return circuitDefault;
}

/** Process-wide task group instruments on `hordeMeter()`, created on first use. */
export function taskGroupMetrics(): TaskGroupMetrics {
  taskGroupDefault ??= createTaskGroupMetrics();
  return taskGroupDefault;
}
