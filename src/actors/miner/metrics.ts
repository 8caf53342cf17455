import type { Counter, Histogram, Meter, ObservableGauge, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

/**
 * Every instrument of the miner. Labels never carry hotkeys, job uuids or tokens (unbounded cardinality, and tokens
 * are secrets); `executor_class` has five values.
 */
export interface MinerMetrics {
  /** Validator connections currently open (authenticated or not). */
  readonly sessionsOpen: UpDownCounter;
  /** Validator connections by `outcome`: authenticated, unknown_validator, inactive_validator, auth_refused. */
  readonly sessions: Counter;
  /** Reservation answers by `executor_class` and `outcome`: reserved, busy, draining, unknown_class. */
  readonly reservations: Counter;
  /** From the initial request reaching the job actor to the accept (or decline) being handed to the socket. */
  readonly reservationLatencyMs: Histogram;
  /** Pool slots by `executor_class` and `state` (capacity, held, free); observed from the occupancy store. */
  readonly poolSlots: ObservableGauge;
  /** How long executors lived, from spawn to confirmed exit, by `executor_class` and `end`. */
  readonly executorLifetimeMs: Histogram;
  /** Executor ends by `executor_class` and `end` (exited, killed_ttl, killed_job_over, killed_drain, spinup_failed, …). */
  readonly executorExits: Counter;
  /** Leftover job containers the miner removed after an executor ended (it should have removed them itself). */
  readonly leftoverContainersRemoved: Counter;
  /** Jobs by final `outcome`: finished, failed, horde_failed, rejected, stale. */
  readonly jobs: Counter;
  /** Receipts verified, countersigned and stored, by `receipt_type`. */
  readonly receiptsStored: Counter;
  /** Receipts not stored, by `receipt_type` and `reason` (bad signature, wrong hotkey, duplicate, queue_full, write_failed). */
  readonly receiptsRefused: Counter;
  /** Receipts waiting in the store's queue. */
  readonly receiptQueueDepth: UpDownCounter;
  /** Messages dropped by a bounded buffer, by `queue` (pre_auth, detached_outbox, receipt_queue). */
  readonly droppedMessages: Counter;
}

const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 7_000];
const LIFETIME_BUCKETS_MS = [100, 1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_200_000, 3_600_000];

/**
 * Creates the miner's instruments from `meter` (the global Horde meter by default: call it after `setupTelemetry`).
 *
 * @example
 * ```ts
 * const metrics = createMinerMetrics();
 * metrics.reservations.add(1, { executor_class: 'always_on.test', outcome: 'busy' });
 * ```
 */
export function createMinerMetrics(meter: Meter = hordeMeter()): MinerMetrics {
  return {
    sessionsOpen: meter.createUpDownCounter('horde_miner_validator_sessions_open', {
      description: 'Validator connections currently open',
    }),
    sessions: meter.createCounter('horde_miner_validator_sessions_total', {
      description: 'Validator connections by outcome of the validator check and authentication',
    }),
    reservations: meter.createCounter('horde_miner_reservations_total', {
      description: 'Executor reservation answers by executor class and outcome',
    }),
    reservationLatencyMs: meter.createHistogram('horde_miner_reservation_latency_ms', {
      description: 'Time from an initial job request reaching its job actor to the accept or decline being sent',
      unit: 'ms',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    poolSlots: meter.createObservableGauge('horde_miner_pool_slots', {
      description: 'Executor pool slots by executor class and state (capacity, held, free)',
    }),
    executorLifetimeMs: meter.createHistogram('horde_miner_executor_lifetime_ms', {
      description: 'Executor lifetime from spawn to confirmed exit',
      unit: 'ms',
      advice: { explicitBucketBoundaries: LIFETIME_BUCKETS_MS },
    }),
    executorExits: meter.createCounter('horde_miner_executor_exits_total', {
      description: 'Executor ends by executor class and how they ended',
    }),
    leftoverContainersRemoved: meter.createCounter('horde_miner_leftover_containers_removed_total', {
      description: 'Job containers left behind by an executor and removed by the miner',
    }),
    jobs: meter.createCounter('horde_miner_jobs_total', { description: 'Jobs by final outcome' }),
    receiptsStored: meter.createCounter('horde_miner_receipts_stored_total', {
      description: 'Receipts verified, countersigned and stored, by receipt type',
    }),
    receiptsRefused: meter.createCounter('horde_miner_receipts_refused_total', {
      description: 'Receipts not stored, by receipt type and reason',
    }),
    receiptQueueDepth: meter.createUpDownCounter('horde_miner_receipt_queue_depth', {
      description: 'Receipts waiting for verification and storage',
    }),
    droppedMessages: meter.createCounter('horde_miner_dropped_messages_total', {
      description: 'Messages dropped by a bounded miner buffer, by queue',
    }),
  };
}
