/**
 * The job router (computehorde-upstream.md §3.8, without allowance): which miner gets a job.
 *
 * Among the metagraph's serving miners whose manifest is fresh, that offer the job's class and still have a free
 * executor of it (manifest count − our jobs running there), the router orders candidates by a weighted shuffle on
 * their reliability (recent incidents per executor, through upstream's sigmoid) and takes the first whose circuit
 * breaker admits a dial. Nobody → `no_miner_for_job`, with every miner passed over and why.
 *
 * `on_trusted_miner` bypasses all of it: the configured trusted miner, or `no_miner_for_job` when none is configured.
 */
import type { Meter } from '@opentelemetry/api';
import type { MetagraphProvider } from '../../metagraph';
import type { Logger } from '../../telemetry/logger';
import { systemRandom, type Random } from '../../util/clock';
import {
  freeCapacity,
  isManifestFresh,
  isServing,
  reliabilityScore,
  reliabilityWeight,
  weightedShuffle,
  type WeightCurve,
  UPSTREAM_WEIGHT_CURVE,
} from './routing';
import { DEFAULT_MANIFEST_MAX_AGE_MS, RELIABILITY_WINDOW_MS } from './routingDefaults';
import { createRoutingMetrics, routingMetrics, type RoutingMetrics } from './routingMetrics';
import type {
  BusyTracker,
  JobRouter,
  ManifestBook,
  MinerAvailability,
  MinerEndpoint,
  ReliabilityLedger,
  RouteDecision,
  RouteSkip,
} from './types';

export interface JobRouterOptions {
  readonly metagraph: MetagraphProvider;
  readonly manifests: ManifestBook;
  readonly busy: BusyTracker;
  readonly ledger: ReliabilityLedger;
  readonly availability: MinerAvailability;
  /** Draws the weighted shuffle. @default systemRandom */
  readonly random?: Random;
  /** Where `on_trusted_miner` jobs go; unset: such jobs get `no_miner_for_job`. */
  readonly trustedMiner?: MinerEndpoint;
  /** @default DEFAULT_MANIFEST_MAX_AGE_MS */
  readonly manifestMaxAgeMs?: number;
  /** Incidents this far back count. @default RELIABILITY_WINDOW_MS */
  readonly reliabilityWindowMs?: number;
  /** @default UPSTREAM_WEIGHT_CURVE */
  readonly curve?: WeightCurve;
  /** Instruments; unset: created on `meter`, or the process-wide routing instruments. */
  readonly metrics?: Pick<RoutingMetrics, 'decision' | 'skip'>;
  readonly meter?: Meter;
  /** Logs each decision at debug (with probabilities), and `no_miner_for_job` at warn. */
  readonly logger?: Logger;
}

interface Candidate {
  readonly miner: MinerEndpoint;
  readonly score: number;
}

/**
 * @example
 * ```ts
 * const router = createJobRouter({ metagraph, manifests: fetcher, busy, ledger, availability, random: seededRandom(7) });
 * const decision = router.pick(job, clock.nowMs());
 * if (decision.ok) busy.begin(job.uuid, decision.route.miner.hotkey, job.executor_class);
 * else report({ status: 'rejected', ...decision.message });
 * ```
 */
export function createJobRouter(options: JobRouterOptions): JobRouter {
  const random = options.random ?? systemRandom;
  const maxAgeMs = options.manifestMaxAgeMs ?? DEFAULT_MANIFEST_MAX_AGE_MS;
  const windowMs = options.reliabilityWindowMs ?? RELIABILITY_WINDOW_MS;
  const curve = options.curve ?? UPSTREAM_WEIGHT_CURVE;
  const metrics = options.metrics ?? (options.meter ? createRoutingMetrics(options.meter) : routingMetrics());
  const { logger } = options;

  const refuse = (message: string, skipped: readonly RouteSkip[]): RouteDecision => {
    metrics.decision('no_miner_for_job');
    logger?.warn('no miner for job', { message, skipped: skipped.length });
    return { ok: false, reason: 'no_miner_for_job', message, skipped };
  };

  return {
    pick(request, nowMs) {
      const executorClass = request.executor_class;
      if (request.on_trusted_miner) {
        if (options.trustedMiner === undefined) return refuse('the job asks for the trusted miner, but none is configured', []);
        metrics.decision('trusted');
        logger?.debug('routed to the trusted miner', { jobUuid: request.uuid, miner: options.trustedMiner.hotkey });
        return { ok: true, route: { miner: options.trustedMiner, trusted: true } };
      }

      const skipped: RouteSkip[] = [];
      const skip = (hotkey: string, why: RouteSkip['why']): void => {
        skipped.push({ hotkey, why });
        metrics.skip(why);
      };
      const candidates: Candidate[] = [];
      for (const miner of options.metagraph.snapshot().miners.values()) {
        if (!isServing(miner)) {
          skip(miner.hotkey, 'not_serving');
          continue;
        }
        const entry = options.manifests.get(miner.hotkey);
        if (entry === undefined) {
          skip(miner.hotkey, 'no_manifest');
          continue;
        }
        if (!isManifestFresh(entry.fetchedAtMs, nowMs, maxAgeMs)) {
          skip(miner.hotkey, 'stale_manifest');
          continue;
        }
        const executors = entry.manifest[executorClass] ?? 0;
        if (executors <= 0) {
          skip(miner.hotkey, 'class_not_offered');
          continue;
        }
        if (freeCapacity(entry.manifest, executorClass, options.busy.busy(miner.hotkey, executorClass)) <= 0) {
          skip(miner.hotkey, 'no_capacity');
          continue;
        }
        const incidents = options.ledger.incidents(miner.hotkey, executorClass, nowMs - windowMs);
        candidates.push({
          miner: { hotkey: miner.hotkey, address: miner.address, port: miner.port },
          score: reliabilityScore(incidents, executors),
        });
      }

      const order = weightedShuffle(
        candidates,
        candidates.map((c) => reliabilityWeight(c.score, curve)),
        random,
      );
      // Availability last and lazily: a half-open breaker admits one probe, which only the chosen miner should use.
      for (const { item, probability } of order) {
        if (!options.availability.isAvailable(item.miner.hotkey, nowMs)) {
          skip(item.miner.hotkey, 'circuit_open');
          continue;
        }
        metrics.decision('routed');
        logger?.debug('routed job', {
          jobUuid: request.uuid,
          miner: item.miner.hotkey,
          score: item.score,
          probability,
          candidates: order.length,
          skipped: skipped.length,
        });
        return { ok: true, route: { miner: item.miner, trusted: false } };
      }
      const counts = new Map<string, number>();
      for (const s of skipped) counts.set(s.why, (counts.get(s.why) ?? 0) + 1);
      const summary = [...counts].map(([why, n]) => `${n} ${why}`).join(', ');
      return refuse(
        `no miner can take a ${executorClass} job now` + (skipped.length > 0 ? ` (passed over: ${summary})` : ' (no miner in the metagraph)'),
        skipped,
      );
    },
  };
}
