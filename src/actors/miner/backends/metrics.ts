import type { Counter, Meter } from '@opentelemetry/api';
import { hordeMeter } from '../../../telemetry/meter';

/** Instruments of the executor backends (labels carry no tokens: they are secrets and unbounded). */
export interface BackendMetrics {
  /** Executors started for a job, by `backend` and `start`: `standby` (a warm process took the job) or `cold`. */
  readonly executorStarts: Counter;
  /** Standby executors that failed to start or ended before a job took them, by `backend`. */
  readonly standbyFailures: Counter;
}

/**
 * Creates the backends' instruments from `meter` (the global Horde meter by default: call it after `setupTelemetry`).
 *
 * @example
 * ```ts
 * const metrics = createBackendMetrics();
 * metrics.executorStarts.add(1, { backend: 'process', start: 'standby' });
 * ```
 */
export function createBackendMetrics(meter: Meter = hordeMeter()): BackendMetrics {
  return {
    executorStarts: meter.createCounter('horde_miner_executor_starts_total', {
      description: 'Executors started for a job, by backend and start (standby: a warm process; cold: a new one)',
    }),
    standbyFailures: meter.createCounter('horde_miner_executor_standby_failures_total', {
      description: 'Standby executors that failed to start or ended before a job took them',
    }),
  };
}
