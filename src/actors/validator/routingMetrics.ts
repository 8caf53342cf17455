/**
 * Instruments of the validator's routing area (router, ledger, busy tracker, availability, manifest fetcher),
 * created in one place from an injected meter. Names follow `horde_<entity>_<measure>_<unit>`; the Prometheus
 * exporter appends `_total` to counters.
 */
import type { Meter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';
import type { RouteSkip } from './types';

export const ROUTE_DECISIONS = 'horde_validator_route_decisions';
export const ROUTE_SKIPS = 'horde_validator_route_skips';
export const LEDGER_DROPPED = 'horde_validator_ledger_dropped';
export const BUSY_DROPPED = 'horde_validator_busy_dropped';
export const AVAILABILITY_EVICTED = 'horde_validator_availability_evicted';
export const MANIFEST_FETCHES = 'horde_validator_manifest_fetches';
export const MANIFEST_FETCH_DURATION_MS = 'horde_validator_manifest_fetch_duration_ms';
export const MANIFEST_ROUNDS = 'horde_validator_manifest_rounds';
export const MANIFEST_ROUND_DURATION_MS = 'horde_validator_manifest_round_duration_ms';
export const MANIFEST_BOOK_SIZE = 'horde_validator_manifest_book_miners';

/** How one routing decision ended. */
export type RouteOutcome = 'routed' | 'trusted' | 'no_miner_for_job';

/** How one miner's manifest fetch ended in a round. */
export type FetchOutcome = 'fetched' | 'failed' | 'skipped';

/** What the routing area records. A small interface rather than raw instruments, so that tests can pass a fake. */
export interface RoutingMetrics {
  /** `horde_validator_route_decisions_total{outcome}` */
  decision(outcome: RouteOutcome): void;
  /** `horde_validator_route_skips_total{why}` */
  skip(why: RouteSkip['why']): void;
  /** `horde_validator_ledger_dropped_total{what}`: incidents dropped past the per-pair cap, pairs forgotten. */
  ledgerDropped(what: 'incident' | 'pair', count: number): void;
  /** `horde_validator_busy_dropped_total`: `begin`s refused past the tracker's bound. */
  busyDropped(): void;
  /** `horde_validator_availability_evicted_total`: breakers forgotten past the map's bound. */
  availabilityEvicted(): void;
  /** `horde_validator_manifest_fetches_total{miner,outcome,reason}` and, unless skipped, the fetch's duration. */
  fetch(miner: string, outcome: FetchOutcome, reason: string, durationMs: number | undefined): void;
  /** `horde_validator_manifest_rounds_total{outcome}` and `horde_validator_manifest_round_duration_ms`. */
  round(outcome: 'completed' | 'failed' | 'cancelled', durationMs: number): void;
  /** `horde_validator_manifest_book_miners`: manifests held. */
  bookSize(miners: number): void;
}

/** Instruments on `meter`. Create once per process (or per validator) and share. */
export function createRoutingMetrics(meter: Meter = hordeMeter()): RoutingMetrics {
  const decisions = meter.createCounter(ROUTE_DECISIONS, {
    description: 'routing decisions, by outcome (routed | trusted | no_miner_for_job)',
  });
  const skips = meter.createCounter(ROUTE_SKIPS, { description: 'miners passed over by the router, by reason' });
  const ledgerDropped = meter.createCounter(LEDGER_DROPPED, {
    description: 'reliability ledger entries dropped by its bounds (incident: per-pair cap; pair: key cap)',
  });
  const busyDropped = meter.createCounter(BUSY_DROPPED, { description: 'busy tracker begins refused by its bound' });
  const evicted = meter.createCounter(AVAILABILITY_EVICTED, {
    description: 'per-miner circuit breakers forgotten because the map was full',
  });
  const fetches = meter.createCounter(MANIFEST_FETCHES, {
    description: 'manifest fetches per miner and round, by outcome (fetched | failed | skipped) and reason',
  });
  const fetchDuration = meter.createHistogram(MANIFEST_FETCH_DURATION_MS, {
    description: 'time to fetch one miner manifest (all attempts), by miner and outcome',
    unit: 'ms',
  });
  const rounds = meter.createCounter(MANIFEST_ROUNDS, { description: 'manifest rounds, by outcome' });
  const roundDuration = meter.createHistogram(MANIFEST_ROUND_DURATION_MS, {
    description: 'time to fetch every serving miner once',
    unit: 'ms',
  });
  const book = meter.createGauge(MANIFEST_BOOK_SIZE, { description: 'miners with a manifest held' });
  return {
    decision: (outcome) => decisions.add(1, { outcome }),
    skip: (why) => skips.add(1, { why }),
    ledgerDropped: (what, count) => ledgerDropped.add(count, { what }),
    busyDropped: () => busyDropped.add(1),
    availabilityEvicted: () => evicted.add(1),
    fetch: (miner, outcome, reason, durationMs) => {
      fetches.add(1, { miner, outcome, reason });
      if (durationMs !== undefined) fetchDuration.record(durationMs, { miner, outcome });
    },
    round: (outcome, durationMs) => {
      rounds.add(1, { outcome });
      roundDuration.record(durationMs, { outcome });
    },
    bookSize: (miners) => book.record(miners),
  };
}

let processDefault: RoutingMetrics | undefined;

/** Process-wide routing instruments on `hordeMeter()`, created on first use. */
export function routingMetrics(): RoutingMetrics {
  processDefault ??= createRoutingMetrics();
  return processDefault;
}
