/**
 * In-memory bookkeeping the router reads: recent incidents per (miner, class) and our own running jobs per
 * (miner, class). Both are bounded, and count what they drop. Upstream keeps these in Postgres (`SystemEvent`
 * incidents, receipts); a restart forgets them here, which only makes routing briefly more forgiving.
 */
import type { ExecutorClass } from '../../protocol';
import type { BusyTracker, IncidentKind, ReliabilityLedger } from './types';
import { BUSY_TRACKER_MAX_JOBS, LEDGER_MAX_INCIDENTS_PER_KEY, LEDGER_MAX_KEYS, RELIABILITY_WINDOW_MS } from './routingDefaults';
import type { RoutingMetrics } from './routingMetrics';

const keyOf = (hotkey: string, executorClass: ExecutorClass): string => `${hotkey}\u0000${executorClass}`;

export interface ReliabilityLedgerOptions {
  /** Incidents older than this (relative to the newest one recorded) are pruned. @default RELIABILITY_WINDOW_MS */
  readonly retentionMs?: number;
  /** @default LEDGER_MAX_INCIDENTS_PER_KEY */
  readonly maxIncidentsPerKey?: number;
  /** @default LEDGER_MAX_KEYS */
  readonly maxKeys?: number;
  /** Counts dropped incidents and forgotten pairs (`horde_validator_ledger_dropped_total{what}`). */
  readonly metrics?: Pick<RoutingMetrics, 'ledgerDropped'>;
}

/** The ledger with its housekeeping exposed (for tests and the validator's metrics). */
export interface InMemoryReliabilityLedger extends ReliabilityLedger {
  /** Incidents held, over every pair. */
  size(): number;
  /** Drops every incident older than `nowMs − retentionMs`. Recording also prunes the pair it touches. */
  prune(nowMs: number): void;
}

/**
 * Recent incidents per (miner, class), oldest first. Per pair at most `maxIncidentsPerKey` (the oldest is dropped);
 * at most `maxKeys` pairs (the least recently recorded pair is forgotten). Incidents recorded out of order are
 * inserted in place.
 *
 * @example
 * ```ts
 * const ledger = createReliabilityLedger();
 * ledger.recordIncident(miner, 'always_on.test', 'horde_failed', clock.nowMs());
 * ledger.incidents(miner, 'always_on.test', clock.nowMs() - RELIABILITY_WINDOW_MS); // 1
 * ```
 */
export function createReliabilityLedger(options: ReliabilityLedgerOptions = {}): InMemoryReliabilityLedger {
  const retentionMs = options.retentionMs ?? RELIABILITY_WINDOW_MS;
  const maxPerKey = options.maxIncidentsPerKey ?? LEDGER_MAX_INCIDENTS_PER_KEY;
  const maxKeys = options.maxKeys ?? LEDGER_MAX_KEYS;
  const metrics = options.metrics;
  // Map order = recency of the last record (re-inserted on every record), so the first key is the eviction victim.
  const byKey = new Map<string, Array<{ atMs: number; kind: IncidentKind }>>();
  let total = 0;

  const pruneList = (list: Array<{ atMs: number }>, cutoffMs: number): number => {
    let drop = 0;
    while (drop < list.length && list[drop]!.atMs < cutoffMs) drop++;
    if (drop > 0) list.splice(0, drop);
    return drop;
  };

  return {
    recordIncident(hotkey, executorClass, kind, atMs) {
      const key = keyOf(hotkey, executorClass);
      let list = byKey.get(key);
      if (list === undefined) {
        if (byKey.size >= maxKeys) {
          const [oldestKey, oldest] = byKey.entries().next().value as [string, Array<unknown>];
          byKey.delete(oldestKey);
          total -= oldest.length;
          metrics?.ledgerDropped('pair', 1);
        }
        list = [];
      } else byKey.delete(key);
      byKey.set(key, list);
      let at = list.length;
      while (at > 0 && list[at - 1]!.atMs > atMs) at--;
      list.splice(at, 0, { atMs, kind });
      total++;
      const newestMs = list[list.length - 1]!.atMs;
      const expired = pruneList(list, newestMs - retentionMs);
      total -= expired;
      if (list.length > maxPerKey) {
        const excess = list.length - maxPerKey;
        list.splice(0, excess);
        total -= excess;
        metrics?.ledgerDropped('incident', excess);
      }
    },
    incidents(hotkey, executorClass, sinceMs) {
      const list = byKey.get(keyOf(hotkey, executorClass));
      if (list === undefined) return 0;
      let count = 0;
      for (let i = list.length - 1; i >= 0 && list[i]!.atMs >= sinceMs; i--) count++;
      return count;
    },
    size: () => total,
    prune(nowMs) {
      for (const [key, list] of byKey) {
        total -= pruneList(list, nowMs - retentionMs);
        if (list.length === 0) byKey.delete(key);
      }
    },
  };
}

export interface BusyTrackerOptions {
  /** @default BUSY_TRACKER_MAX_JOBS */
  readonly maxJobs?: number;
  /** Counts refused `begin`s (`horde_validator_busy_dropped_total`). */
  readonly metrics?: Pick<RoutingMetrics, 'busyDropped'>;
}

/** The tracker with its size exposed. */
export interface InMemoryBusyTracker extends BusyTracker {
  /** Jobs being tracked. */
  size(): number;
}

/**
 * Our running jobs per (miner, class). `begin` for a job already tracked is ignored (a job runs on one miner);
 * `end` is idempotent. Beyond `maxJobs` a `begin` is dropped and counted.
 *
 * @example
 * ```ts
 * const busy = createBusyTracker();
 * busy.begin(job.uuid, route.miner.hotkey, job.executor_class);
 * busy.busy(route.miner.hotkey, job.executor_class); // 1
 * busy.end(job.uuid);
 * ```
 */
export function createBusyTracker(options: BusyTrackerOptions = {}): InMemoryBusyTracker {
  const maxJobs = options.maxJobs ?? BUSY_TRACKER_MAX_JOBS;
  const jobs = new Map<string, string>();
  const counts = new Map<string, number>();
  return {
    begin(jobUuid, hotkey, executorClass) {
      if (jobs.has(jobUuid)) return;
      if (jobs.size >= maxJobs) {
        options.metrics?.busyDropped();
        return;
      }
      const key = keyOf(hotkey, executorClass);
      jobs.set(jobUuid, key);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    end(jobUuid) {
      const key = jobs.get(jobUuid);
      if (key === undefined) return;
      jobs.delete(jobUuid);
      const left = (counts.get(key) ?? 1) - 1;
      if (left <= 0) counts.delete(key);
      else counts.set(key, left);
    },
    busy: (hotkey, executorClass) => counts.get(keyOf(hotkey, executorClass)) ?? 0,
    size: () => jobs.size,
  };
}
