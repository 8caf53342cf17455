/**
 * The manifest fetcher against real `ws` light miners on 127.0.0.1: rounds, the per-miner breaker, the bounded
 * pool (sockets counted server-side), timeouts, refusals, stop.
 */
import { createMinerAvailability } from '../../../src/actors/validator/availability';
import { startManifestFetcher, type ManifestFetcherHandle, type ManifestFetcherOptions } from '../../../src/actors/validator/manifestFetcher';
import type { FetchOutcome, RoutingMetrics } from '../../../src/actors/validator/routingMetrics';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import { staticMetagraphProvider, type StaticMetagraphProvider } from '../../../src/metagraph';
import { retryPolicy } from '../../../src/resilience/retry';
import { LightMiners, type LightMinerSpec } from '../../support/lightMiners';

const HOUR_MS = 3_600_000;
/** Quick retries so a test round with a dead miner takes milliseconds, not a second. */
const FAST_RETRY = retryPolicy({
  initialIntervalMs: 10,
  maximumIntervalMs: 10,
  maximumAttempts: 2,
  nonRetryableCodes: ['circuit.open', 'manifest.refused'],
});

let validator: Hotkey;
let miners: LightMiners | undefined;
let fetcher: ManifestFetcherHandle | undefined;
let metagraph: StaticMetagraphProvider | undefined;

beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('horde-manifest-it-validator');
});

afterEach(async () => {
  await fetcher?.stop();
  fetcher = undefined;
  await metagraph?.close();
  metagraph = undefined;
  await miners?.close();
  miners = undefined;
});

function recordingMetrics(): RoutingMetrics & { fetches: Array<{ miner: string; outcome: FetchOutcome; reason: string }> } {
  const fetches: Array<{ miner: string; outcome: FetchOutcome; reason: string }> = [];
  return {
    fetches,
    decision: () => undefined,
    skip: () => undefined,
    ledgerDropped: () => undefined,
    busyDropped: () => undefined,
    availabilityEvicted: () => undefined,
    fetch: (miner, outcome, reason) => fetches.push({ miner, outcome, reason }),
    round: () => undefined,
    bookSize: () => undefined,
  };
}

async function setup(specs: LightMinerSpec[], overrides: Partial<ManifestFetcherOptions> = {}) {
  miners = await LightMiners.start(specs);
  metagraph = staticMetagraphProvider(miners.metagraph([validator.ss58]));
  const availability = createMinerAvailability({ policy: { failureThreshold: 3, failureWindowMs: HOUR_MS, coolDownMs: HOUR_MS, maxCoolDownMs: HOUR_MS } });
  const metrics = recordingMetrics();
  fetcher = startManifestFetcher({
    validator,
    metagraph,
    availability,
    intervalMs: HOUR_MS,
    fetchOnStart: false,
    retry: FAST_RETRY,
    timeoutMs: 5_000,
    metrics,
    ...overrides,
  });
  return { miners, fetcher, availability, metrics, metagraph };
}

async function eventually(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('manifest fetcher against light miners', () => {
  it('fetches every serving miner and keeps the latest manifest (capped per class) with its fetch time', async () => {
    const { miners, fetcher } = await setup([
      { manifest: { 'always_on.test': 2 } },
      { manifest: { 'always_on.llm.a6000': 7 } },
      { manifest: {} },
    ]);
    const before = Date.now();
    const report = await fetcher.fetchRound();
    expect(report).toMatchObject({ round: 1, miners: 3, fetched: 3, failed: 0, skipped: 0, cancelled: false });
    const [a, b, c] = miners.miners;
    expect(fetcher.get(a!.hotkey)?.manifest).toEqual({ 'always_on.test': 2 });
    expect(fetcher.get(b!.hotkey)?.manifest).toEqual({ 'always_on.llm.a6000': 2 });
    expect(fetcher.get(c!.hotkey)?.manifest).toEqual({});
    expect(fetcher.get(a!.hotkey)!.fetchedAtMs).toBeGreaterThanOrEqual(before);
    expect(fetcher.freshSince(before)).toHaveLength(3);
    expect(fetcher.freshSince(Date.now() + 1)).toHaveLength(0);
    expect(miners.miners.every((m) => m.authenticated === 1 && m.badAuth === 0)).toBe(true);
    await eventually(() => miners.concurrent === 0, 5_000, 'every socket closed');
    expect(fetcher.openSockets).toBe(0);

    miners.miners[0]!.manifest = { 'always_on.test': 5 };
    const second = await fetcher.fetchRound();
    expect(second.round).toBe(2);
    expect(fetcher.get(a!.hotkey)?.manifest).toEqual({ 'always_on.test': 5 });
  });

  it('opens the breaker of a miner that is down after its failures, and keeps fetching the others', async () => {
    const { miners, fetcher, availability, metrics } = await setup([{}, { mode: 'down' }, {}, {}]);
    const down = miners.miners[1]!.hotkey;
    const resultOf = (report: { results: readonly { hotkey: string; outcome: string; reason: string }[] }) =>
      report.results.find((r) => r.hotkey === down);

    const first = await fetcher.fetchRound(); // 2 failed attempts: 2 failures
    expect(first).toMatchObject({ fetched: 3, failed: 1, skipped: 0 });
    expect(resultOf(first)).toMatchObject({ outcome: 'failed', reason: 'manifest.connect_failed' });
    expect(availability.phase(down, Date.now())).toBe('closed');

    const second = await fetcher.fetchRound(); // 3rd failure opens it; the retry is refused by the breaker
    expect(second).toMatchObject({ fetched: 3, failed: 1 });
    expect(availability.phase(down, Date.now())).toBe('open');

    const third = await fetcher.fetchRound(); // skipped without a dial
    expect(third).toMatchObject({ fetched: 3, failed: 0, skipped: 1 });
    expect(resultOf(third)).toMatchObject({ outcome: 'skipped', reason: 'circuit_open' });
    expect(fetcher.get(down)).toBeUndefined();
    for (const m of miners.miners) if (m.hotkey !== down) expect(fetcher.get(m.hotkey)).toBeDefined();

    expect(metrics.fetches.filter((f) => f.miner === down).map((f) => f.outcome)).toEqual(['failed', 'failed', 'skipped']);
    expect(metrics.fetches.filter((f) => f.outcome === 'fetched')).toHaveLength(9);
  });

  it('never holds more sockets than the concurrency limit (counted by the miners)', async () => {
    const { miners, fetcher } = await setup(
      Array.from({ length: 24 }, () => ({ mode: 'slow' as const, delayMs: 40 })),
      { concurrency: 5 },
    );
    const report = await fetcher.fetchRound();
    expect(report.fetched).toBe(24);
    expect(miners.maxConcurrent).toBeLessThanOrEqual(5);
    expect(miners.maxConcurrent).toBe(5); // the limit binds: slow miners overlap
  });

  it('cuts a silent miner off at the per-attempt timeout and closes its socket', async () => {
    const { miners, fetcher } = await setup([{ mode: 'silent' }, {}], {
      timeoutMs: 300,
      retry: retryPolicy({ maximumAttempts: 1 }),
    });
    const report = await fetcher.fetchRound();
    expect(report.results.find((r) => r.hotkey === miners.miners[0]!.hotkey)).toMatchObject({
      outcome: 'failed',
      reason: 'retry.attempt_timeout',
    });
    expect(report.fetched).toBe(1);
    await eventually(() => miners.concurrent === 0, 5_000, 'the silent miner’s socket closed');
  });

  it('does not retry a miner that refuses the validator', async () => {
    const { miners, fetcher } = await setup([{ mode: 'refusing' }]);
    const report = await fetcher.fetchRound();
    expect(report.results[0]).toMatchObject({ outcome: 'failed', reason: 'manifest.refused' });
    expect(miners.miners[0]!.connections).toBe(1);
  });

  it('forgets the manifest of a miner that left the metagraph', async () => {
    const { miners, fetcher, metagraph } = await setup([{}, {}]);
    await fetcher.fetchRound();
    const leaving = miners.miners[1]!.hotkey;
    expect(fetcher.get(leaving)).toBeDefined();
    const content = miners.metagraph([validator.ss58]);
    metagraph.set({ ...content, miners: content.miners.slice(0, 1) });
    const report = await fetcher.fetchRound();
    expect(report.miners).toBe(1);
    expect(fetcher.get(leaving)).toBeUndefined();
  });

  it('stop() aborts in-flight fetches, closes their sockets, and refuses later rounds', async () => {
    const { miners, fetcher } = await setup(Array.from({ length: 6 }, () => ({ mode: 'silent' as const })), { timeoutMs: 60_000 });
    const round = fetcher.fetchRound();
    await eventually(() => miners.miners.every((m) => m.authenticated === 1), 5_000, 'every miner dialled');
    expect(fetcher.openSockets).toBe(6);
    await fetcher.stop();
    expect(fetcher.openSockets).toBe(0);
    await expect(round).rejects.toMatchObject({ code: 'manifest.fetcher_stopped' });
    await expect(fetcher.fetchRound()).rejects.toMatchObject({ code: 'manifest.fetcher_stopped' });
    await eventually(() => miners.concurrent === 0, 5_000, 'the miners saw every socket close');
  });

  it('fetches 200 light miners through a pool of 32', async () => {
    const { miners, fetcher } = await setup(Array.from({ length: 200 }, (_, i) => ({ manifest: { 'always_on.test': 1 + (i % 3) } })), {
      concurrency: 32,
    });
    const report = await fetcher.fetchRound();
    expect(report).toMatchObject({ miners: 200, fetched: 200, failed: 0 });
    expect(miners.maxConcurrent).toBeLessThanOrEqual(32);
    expect(fetcher.get(miners.miners[199]!.hotkey)?.manifest).toEqual({ 'always_on.test': 1 + (199 % 3) });
  }, 60_000);
});
