import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

/**
 * Instruments of the validator's organic job actors. Labels never carry hotkeys or job uuids (unbounded
 * cardinality); `executor_class` has five values, `status` four, `reason` the protocol's enum.
 */
export interface OrganicJobMetrics {
  /** Jobs running now (an actor between start and its end). */
  readonly active: UpDownCounter;
  /** Ended jobs by `executor_class`, terminal `status` and `reason` (completed, a rejection/failure/horde reason). */
  readonly outcomes: Counter;
  /** From the actor's start to its terminal status, by `executor_class` and `status`. */
  readonly durationMs: Histogram;
  /** Time spent in each `stage` (connecting, reserving, spinning_up, downloading, …), by `executor_class`. */
  readonly stageDurationMs: Histogram;
  /** Miner messages that changed nothing, by `why` (other_job, duplicate, late, unhandled). */
  readonly ignoredMessages: Counter;
  /** Statuses the sink refused (the outbox could not write), by `status`: these never reach the facilitator. */
  readonly reportFailures: Counter;
  /** Busy declines by `excused` (true/false). */
  readonly busyDeclines: Counter;
}

const DURATION_BUCKETS_MS = [10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/**
 * Creates the organic job instruments from `meter` (the global Horde meter by default: call it after `setupTelemetry`).
 *
 * @example
 * ```ts
 * const metrics = createOrganicJobMetrics(meter);
 * metrics.outcomes.add(1, { executor_class: 'always_on.test', status: 'completed', reason: 'completed' });
 * ```
 */
export function createOrganicJobMetrics(meter: Meter = hordeMeter()): OrganicJobMetrics {
  return {
    active: meter.createUpDownCounter('horde_validator_job_active_jobs', { description: 'Organic jobs running now' }),
    outcomes: meter.createCounter('horde_validator_job_outcomes_total', { description: 'Organic jobs ended, by terminal status and reason' }),
    durationMs: meter.createHistogram('horde_validator_job_duration_ms', {
      description: 'Organic job time from actor start to terminal status',
      unit: 'ms',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
    }),
    stageDurationMs: meter.createHistogram('horde_validator_job_stage_duration_ms', {
      description: 'Time an organic job spent in each stage',
      unit: 'ms',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
    }),
    ignoredMessages: meter.createCounter('horde_validator_job_ignored_messages_total', {
      description: 'Miner messages an organic job ignored (other job, duplicate stage answer, after the end)',
    }),
    reportFailures: meter.createCounter('horde_validator_job_report_failures_total', {
      description: 'Job statuses the status sink failed to store',
    }),
    busyDeclines: meter.createCounter('horde_validator_job_busy_declines_total', { description: 'Busy declines, by whether excused' }),
  };
}
