/**
 * `startManifestFetcher`: the manifest fetcher machine (src/machines/manifestFetcher.machine.ts) with its effects.
 *
 * A round dials every serving miner of the metagraph through a task group (a bounded pool, `concurrency` sockets at
 * most). Per miner: its breaker must admit the dial (open → `skipped`), then up to `MANIFEST_FETCH_RETRY` attempts,
 * each bounded by `timeoutMs`; each failed attempt counts against the miner's breaker, a success stores the manifest
 * (capped per class) with its fetch time. The latest manifest per miner is kept (a failure keeps the previous one,
 * which ages; the router refuses stale ones); miners that left the metagraph are dropped.
 */
import type { Meter } from '@opentelemetry/api';
import { createActor, fromPromise, type Subscription } from 'xstate';
import type { Hotkey } from '../../crypto';
import { manifestFetcherMachine, type RoundReport, type MinerFetchReport } from '../../machines/manifestFetcher.machine';
import type { MetagraphMiner, MetagraphProvider } from '../../metagraph';
import { fromTask, runTaskGroup, type TaskSpec } from '../../actors/taskGroup';
import { CircuitOpenError } from '../../resilience/errors';
import { taskGroupMetrics, type TaskGroupMetrics } from '../../resilience/metrics';
import { retrying, retryCeilingMs, systemTimers, type RetryPolicy, type Timers } from '../../resilience/retry';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { systemClock, systemRandom, type Clock, type Random } from '../../util/clock';
import { errorCode } from '../../util/errors';
import { dialManifest, SocketRegistry } from './manifestDial';
import { ManifestFetcherStoppedError, ManifestRoundFailedError } from './manifestErrors';
import { isServing, normaliseManifest } from './routing';
import {
  DEFAULT_MANIFEST_CONCURRENCY,
  DEFAULT_MANIFEST_INTERVAL_MS,
  DEFAULT_MANIFEST_TIMEOUT_MS,
  MANIFEST_BOOK_MAX_MINERS,
  MANIFEST_CLOSE_GRACE_MS,
  MANIFEST_FETCH_RETRY,
} from './routingDefaults';
import { createRoutingMetrics, routingMetrics, type RoutingMetrics } from './routingMetrics';
import type { ManifestBook, ManifestEntry, MinerAvailability } from './types';

export type { MinerFetchReport, RoundReport };

export interface ManifestFetcherOptions {
  readonly validator: Hotkey;
  readonly metagraph: MetagraphProvider;
  /** The miners' breakers (shared with the router and the job actors). */
  readonly availability: MinerAvailability;
  /** Sockets open at once. @default DEFAULT_MANIFEST_CONCURRENCY (32) */
  readonly concurrency?: number;
  /** Pause between rounds. @default DEFAULT_MANIFEST_INTERVAL_MS (60 s) */
  readonly intervalMs?: number;
  /** Bound on one attempt (dial + auth + manifest). @default DEFAULT_MANIFEST_TIMEOUT_MS (30 s, upstream) */
  readonly timeoutMs?: number;
  /** Per-miner retry within a round. @default MANIFEST_FETCH_RETRY (2 attempts) */
  readonly retry?: RetryPolicy;
  /** Start the first round at once. @default true */
  readonly fetchOnStart?: boolean;
  /** Wall clock: fetch times, auth timestamps, breaker time. @default systemClock */
  readonly clock?: Clock;
  /** Timers for the interval, timeouts and backoff (XState's `SimulatedClock` fits). @default Node's timers */
  readonly timers?: Timers;
  /** Retry jitter. @default systemRandom */
  readonly random?: Random;
  readonly logger?: Logger;
  /** Meter for this fetcher's own instruments; unset: the process-wide routing instruments. */
  readonly meter?: Meter;
  /** Instruments (takes precedence over `meter`). */
  readonly metrics?: RoutingMetrics;
  /** Task group instruments for the pool. @default taskGroupMetrics() */
  readonly taskGroupMetrics?: TaskGroupMetrics;
}

/** The running fetcher: the latest manifest per miner, a way to force a round, and stop. */
export interface ManifestFetcherHandle extends ManifestBook {
  /**
   * Runs a round that starts after this call (at once when idle, right after the round in flight otherwise) and
   * resolves with its report. Rejects with `ManifestFetcherStoppedError` if the fetcher stops first.
   */
  fetchRound(): Promise<RoundReport>;
  /** The last finished round's report. */
  readonly lastReport: RoundReport | undefined;
  /** Sockets open right now (never above `concurrency`). */
  readonly openSockets: number;
  /** Aborts the round in flight, waits for its sockets to close, stops the interval. Idempotent. */
  stop(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const fetcher = startManifestFetcher({ validator, metagraph, availability, logger });
 * const report = await fetcher.fetchRound();       // or wait for the first scheduled one
 * fetcher.get(minerHotkey)?.manifest;              // { 'always_on.test': 2 }
 * await fetcher.stop();
 * ```
 */
export function startManifestFetcher(options: ManifestFetcherOptions): ManifestFetcherHandle {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? systemRandom;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? (options.meter ? createRoutingMetrics(options.meter) : routingMetrics());
  const groupMetrics = options.taskGroupMetrics ?? taskGroupMetrics();
  const concurrency = options.concurrency ?? DEFAULT_MANIFEST_CONCURRENCY;
  const timeoutMs = options.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS;
  const retry = options.retry ?? MANIFEST_FETCH_RETRY;
  const { availability, validator, metagraph } = options;
  const sockets = new SocketRegistry();
  const book = new Map<string, ManifestEntry>();

  // The group's own per-child timeout is a safety net behind the per-attempt timeout: every attempt, every backoff,
  // and the close grace of the last socket.
  const attempts = Number.isFinite(retry.maximumAttempts) ? retry.maximumAttempts : 1;
  let backoffBudgetMs = 0;
  for (let attempt = 1; attempt < attempts; attempt++) backoffBudgetMs += retryCeilingMs(retry, attempt);
  const childBudgetMs = attempts * timeoutMs + backoffBudgetMs + 2 * MANIFEST_CLOSE_GRACE_MS;

  async function fetchOne(miner: MetagraphMiner, signal: AbortSignal): Promise<MinerFetchReport> {
    const { hotkey } = miner;
    const startedMs = clock.nowMs();
    if (!availability.isAvailable(hotkey, startedMs)) {
      metrics.fetch(hotkey, 'skipped', 'circuit_open', undefined);
      return { hotkey, outcome: 'skipped', reason: 'circuit_open', durationMs: 0 };
    }
    try {
      const raw = await retrying(
        async ({ attempt, signal: attemptSignal }) => {
          if (attempt > 1 && !availability.isAvailable(hotkey, clock.nowMs())) throw new CircuitOpenError(hotkey, 0);
          try {
            return await dialManifest({
              miner: { hotkey, address: miner.address, port: miner.port },
              validator,
              signal: attemptSignal,
              clock,
              timers,
              sockets,
            });
          } catch (error) {
            // A dial cut short by stop() says nothing about the miner.
            if (!signal.aborted) availability.recordFailure(hotkey, clock.nowMs());
            throw error;
          }
        },
        retry,
        { signal, timers, random, attemptTimeoutMs: timeoutMs, name: 'manifest_fetch' },
      );
      const durationMs = clock.nowMs() - startedMs;
      if (signal.aborted) return { hotkey, outcome: 'failed', reason: 'cancelled', durationMs };
      const fetchedAtMs = clock.nowMs();
      availability.recordSuccess(hotkey, fetchedAtMs);
      book.delete(hotkey);
      book.set(hotkey, Object.freeze({ hotkey, manifest: normaliseManifest(raw), fetchedAtMs }));
      metrics.fetch(hotkey, 'fetched', 'ok', durationMs);
      return { hotkey, outcome: 'fetched', reason: 'ok', durationMs };
    } catch (error) {
      const durationMs = clock.nowMs() - startedMs;
      if (signal.aborted) return { hotkey, outcome: 'failed', reason: 'cancelled', durationMs };
      const reason = errorCode(error);
      metrics.fetch(hotkey, 'failed', reason, durationMs);
      logger.warn('manifest fetch failed', { miner: hotkey, reason, error, durationMs });
      return { hotkey, outcome: 'failed', reason, durationMs };
    }
  }

  const fetchTask = fromTask<MinerFetchReport, MetagraphMiner>(({ input, signal }) => fetchOne(input, signal));

  async function runRound(round: number, signal: AbortSignal): Promise<RoundReport> {
    const startedAtMs = clock.nowMs();
    const snapshot = metagraph.snapshot();
    for (const hotkey of book.keys()) if (!snapshot.miners.has(hotkey)) book.delete(hotkey);
    const serving = [...snapshot.miners.values()].filter(isServing);
    const children: TaskSpec[] = serving.map((miner) => ({ id: miner.hotkey, logic: fetchTask, input: miner }));
    const output = await runTaskGroup(
      { children, concurrency, childTimeoutMs: childBudgetMs, clock },
      { signal, timers, metrics: groupMetrics },
    );
    const results: MinerFetchReport[] = output.results.map((result) =>
      result.status === 'done'
        ? (result.output as MinerFetchReport)
        : { hotkey: result.id, outcome: 'failed', reason: result.status === 'cancelled' ? 'cancelled' : `task.${result.status}`, durationMs: 0 },
    );
    while (book.size > MANIFEST_BOOK_MAX_MINERS) book.delete(book.keys().next().value as string);
    metrics.bookSize(book.size);
    const count = (outcome: MinerFetchReport['outcome']): number => results.filter((r) => r.outcome === outcome).length;
    const report: RoundReport = {
      round,
      startedAtMs,
      durationMs: clock.nowMs() - startedAtMs,
      miners: serving.length,
      fetched: count('fetched'),
      failed: count('failed'),
      skipped: count('skipped'),
      cancelled: signal.aborted || output.reason !== 'completed',
      results,
    };
    metrics.round(report.cancelled ? 'cancelled' : 'completed', report.durationMs);
    logger.info('manifest round finished', {
      round,
      miners: report.miners,
      fetched: report.fetched,
      failed: report.failed,
      skipped: report.skipped,
      durationMs: report.durationMs,
    });
    return report;
  }

  const logic = manifestFetcherMachine.provide({
    actors: {
      fetchRound: fromPromise<RoundReport, { round: number }>(({ input, signal }) => runRound(input.round, signal)),
      drain: fromPromise<void>(async () => {
        sockets.terminateAll();
        await sockets.drained();
      }),
    },
  });
  const actor = createActor(logic, {
    input: { intervalMs: options.intervalMs ?? DEFAULT_MANIFEST_INTERVAL_MS, fetchOnStart: options.fetchOnStart ?? true },
    clock: timers,
  });

  const waiters: Array<{ round: number; resolve: (r: RoundReport) => void; reject: (e: unknown) => void }> = [];
  const settleWaiters = (round: number, outcome: { report: RoundReport } | { error: unknown }): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (waiter.round > round) continue;
      waiters.splice(i, 1);
      if ('report' in outcome) waiter.resolve(outcome.report);
      else waiter.reject(outcome.error);
    }
  };
  actor.on('manifestFetcher.round.finished', ({ round, report }) => settleWaiters(round, { report }));
  actor.on('manifestFetcher.round.failed', ({ round, error }) => {
    logger.error('manifest round failed', { round, error });
    metrics.round('failed', 0);
    settleWaiters(round, { error: new ManifestRoundFailedError(round, error) });
  });
  let stopped: Promise<void> | undefined;
  const done = new Promise<void>((resolve) => {
    const subscription: Subscription = actor.subscribe({
      complete: () => {
        subscription.unsubscribe();
        resolve();
      },
      error: (error) => {
        logger.error('manifest fetcher failed', { error });
        resolve();
      },
    });
  });
  actor.start();

  return {
    get: (hotkey) => book.get(hotkey),
    freshSince: (sinceMs) => [...book.values()].filter((entry) => entry.fetchedAtMs >= sinceMs),
    get lastReport() {
      return actor.getSnapshot().context.lastReport;
    },
    get openSockets() {
      return sockets.size;
    },
    fetchRound() {
      const snapshot = actor.getSnapshot();
      if (stopped !== undefined || snapshot.status !== 'active' || snapshot.matches('stopping'))
        return Promise.reject(new ManifestFetcherStoppedError());
      const round = snapshot.context.round + 1;
      const result = new Promise<RoundReport>((resolve, reject) => waiters.push({ round, resolve, reject }));
      actor.send({ type: 'manifestFetcher.round.request' });
      return result;
    },
    stop() {
      stopped ??= (async () => {
        actor.send({ type: 'manifestFetcher.stop' });
        await done;
        for (const waiter of waiters.splice(0)) waiter.reject(new ManifestFetcherStoppedError());
      })();
      return stopped;
    },
  };
}
