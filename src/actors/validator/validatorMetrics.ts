import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

/**
 * Instruments of the validator's dispatcher (the link, the organic job actors and the manifest fetcher have their
 * own). Labels never carry hotkeys or job uuids (unbounded cardinality); `executor_class` has five values.
 */
export interface ValidatorMetrics {
  /**
   * Every `job.new` by `result`: dispatched, duplicate, invalid_signature, no_miner_for_job, over_capacity,
   * shutting_down, store_failed.
   */
  readonly jobsReceived: Counter;
  /** Organic job actors running now. */
  readonly jobsRunning: UpDownCounter;
  /** Jobs that ended, by terminal `status`, `excused` and `executor_class`. */
  readonly jobsFinished: Counter;
  /** From `job.new` to the terminal status, by terminal `status`. */
  readonly jobDurationMs: Histogram;
  /** Status updates handed to the outbox, by `status`. */
  readonly statusesReported: Counter;
  /** Status updates NOT written, by `reason`: second_terminal (a job reported a second terminal status), write_failed. */
  readonly statusesDropped: Counter;
  /** Jobs the dispatcher had to end itself (`horde_failed`), by `reason`: restarted, actor_failed, no_outcome. */
  readonly jobsFinishedByDispatcher: Counter;
  /** Miners the router passed over, by `why`. */
  readonly routeSkips: Counter;
  /** Incidents held against miners, by `kind`. */
  readonly incidents: Counter;
  /** `V0JobCheated` reports by `result`: recorded, bad_signature, unknown_job. */
  readonly cheatedReports: Counter;
  /** Finished jobs forgotten to keep the memory of job → miner bounded. */
  readonly jobMemoryEvictions: Counter;
}

const DURATION_BUCKETS_MS = [10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/**
 * Creates the validator's dispatcher instruments from `meter` (the global Horde meter by default: call it after
 * `setupTelemetry`).
 *
 * @example
 * ```ts
 * const metrics = createValidatorMetrics();
 * metrics.jobsReceived.add(1, { result: 'dispatched' });
 * ```
 */
export function createValidatorMetrics(meter: Meter = hordeMeter()): ValidatorMetrics {
  return {
    jobsReceived: meter.createCounter('horde_validator_jobs_received_total', {
      description: 'Jobs received from the facilitator, by what the dispatcher did with them',
    }),
    jobsRunning: meter.createUpDownCounter('horde_validator_jobs_running', {
      description: 'Organic job actors running now',
    }),
    jobsFinished: meter.createCounter('horde_validator_jobs_finished_total', {
      description: 'Jobs that reached a terminal status, by status, excused and executor class',
    }),
    jobDurationMs: meter.createHistogram('horde_validator_job_duration_ms', {
      description: 'Time from job.new to the terminal status',
      unit: 'ms',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
    }),
    statusesReported: meter.createCounter('horde_validator_statuses_reported_total', {
      description: 'Job status updates written to the outbox, by status',
    }),
    statusesDropped: meter.createCounter('horde_validator_statuses_dropped_total', {
      description: 'Job status updates not written to the outbox, by reason',
    }),
    jobsFinishedByDispatcher: meter.createCounter('horde_validator_jobs_failed_by_dispatcher_total', {
      description: 'Jobs the dispatcher ended with horde_failed itself (restart recovery, failed or silent job actors)',
    }),
    routeSkips: meter.createCounter('horde_validator_route_skips_total', {
      description: 'Miners passed over by the router for a job, by why',
    }),
    incidents: meter.createCounter('horde_validator_miner_incidents_total', {
      description: 'Incidents recorded against miners, by kind',
    }),
    cheatedReports: meter.createCounter('horde_validator_cheated_reports_total', {
      description: 'V0JobCheated reports from the facilitator, by result',
    }),
    jobMemoryEvictions: meter.createCounter('horde_validator_job_memory_evictions_total', {
      description: 'Finished jobs forgotten to keep the job-to-miner memory bounded',
    }),
  };
}
