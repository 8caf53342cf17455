import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

/**
 * Every instrument of the facilitator. Labels never carry hotkeys or job uuids (unbounded cardinality); `route` is
 * the route's pattern (`/api/v1/jobs/{uuid}/`), never the raw path.
 */
export interface FacilitatorMetrics {
  /** Job statuses stored, by `status` (`sent` counts created jobs). */
  readonly jobStatuses: Counter;
  /** Status updates refused, by `reason` (not_found, integrity_error). */
  readonly statusRefused: Counter;
  /** Validator connections currently open (authenticated or not). */
  readonly sessionsOpen: UpDownCounter;
  /** Authenticated validator connections (members of a validator group). */
  readonly sessionsAuthenticated: UpDownCounter;
  /** Validator connections by `outcome`: authenticated, bad_signature, unknown_validator, evicted, deregistered. */
  readonly sessions: Counter;
  /** REST requests by `route`, `method` and `code`. */
  readonly restRequests: Counter;
  /** From a create request arriving to its V2JobRequest handed to every connection of the validator. */
  readonly dispatchLatencyMs: Histogram;
  /** Job requests sent to validator connections, by `reason`: new, redelivery. */
  readonly jobsDispatched: Counter;
  /** Open SSE streams. */
  readonly sseStreams: UpDownCounter;
  /** Things dropped by a bound, by `queue` (sse_buffer, sse_streams). */
  readonly dropped: Counter;
}

const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 5_000];

/**
 * Creates the facilitator's instruments from `meter` (the global Horde meter by default: call it after
 * `setupTelemetry`).
 *
 * @example
 * ```ts
 * const metrics = createFacilitatorMetrics();
 * metrics.jobStatuses.add(1, { status: 'sent' });
 * ```
 */
export function createFacilitatorMetrics(meter: Meter = hordeMeter()): FacilitatorMetrics {
  return {
    jobStatuses: meter.createCounter('horde_facilitator_job_statuses_total', { description: 'Job statuses stored, by status' }),
    statusRefused: meter.createCounter('horde_facilitator_status_refused_total', {
      description: 'Status updates refused, by reason (not_found, integrity_error)',
    }),
    sessionsOpen: meter.createUpDownCounter('horde_facilitator_validator_sessions_open', {
      description: 'Validator connections currently open',
    }),
    sessionsAuthenticated: meter.createUpDownCounter('horde_facilitator_validator_sessions_authenticated', {
      description: 'Authenticated validator connections',
    }),
    sessions: meter.createCounter('horde_facilitator_validator_sessions_total', {
      description: 'Validator connections by outcome',
    }),
    restRequests: meter.createCounter('horde_facilitator_rest_requests_total', {
      description: 'REST requests by route, method and status code',
    }),
    dispatchLatencyMs: meter.createHistogram('horde_facilitator_dispatch_latency_ms', {
      description: 'From a create-job request arriving to the job handed to every connection of its validator',
      unit: 'ms',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    jobsDispatched: meter.createCounter('horde_facilitator_jobs_dispatched_total', {
      description: 'Job requests sent to validator connections, by reason (new, redelivery)',
    }),
    sseStreams: meter.createUpDownCounter('horde_facilitator_sse_streams_open', { description: 'Open job event streams' }),
    dropped: meter.createCounter('horde_facilitator_dropped_total', { description: 'Things dropped by a bound, by queue' }),
  };
}
