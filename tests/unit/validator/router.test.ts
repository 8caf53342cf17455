/**
 * The job router with in-memory parts: capacity, stale manifests, open circuits, the trusted-miner override,
 * reliability weighting (statistically, with a seeded Random), metrics; plus the ledger, busy tracker and
 * availability map it reads.
 */
import { createMinerAvailability } from '../../../src/actors/validator/availability';
import { createBusyTracker, createReliabilityLedger } from '../../../src/actors/validator/ledger';
import { createJobRouter, type JobRouterOptions } from '../../../src/actors/validator/router';
import type { RouteOutcome, RoutingMetrics } from '../../../src/actors/validator/routingMetrics';
import type { ManifestBook, ManifestCounts, ManifestEntry, RouteSkip } from '../../../src/actors/validator/types';
import { devHotkey, initCrypto } from '../../../src/crypto';
import { staticMetagraphProvider } from '../../../src/metagraph';
import type { V2JobRequest } from '../../../src/protocol';
import { seededRandom } from '../../../src/util/clock';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

function jobRequest(overrides: Partial<V2JobRequest> = {}): V2JobRequest {
  return {
    signature: null,
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid: 'job-1',
    job_namespace: null,
    executor_class: 'always_on.test',
    docker_image: 'horde-testjob:local',
    args: [],
    env: {},
    use_gpu: false,
    volume: null,
    output_upload: null,
    artifacts_dir: null,
    on_trusted_miner: false,
    download_time_limit: 5,
    execution_time_limit: 5,
    upload_time_limit: 5,
    streaming_start_time_limit: 5,
    streaming_details: null,
    ...overrides,
  };
}

class FakeBook implements ManifestBook {
  readonly entries = new Map<string, ManifestEntry>();
  set(hotkey: string, manifest: ManifestCounts, fetchedAtMs = NOW): void {
    this.entries.set(hotkey, { hotkey, manifest, fetchedAtMs });
  }
  get(hotkey: string): ManifestEntry | undefined {
    return this.entries.get(hotkey);
  }
  freshSince(sinceMs: number): ManifestEntry[] {
    return [...this.entries.values()].filter((e) => e.fetchedAtMs >= sinceMs);
  }
}

function fakeMetrics(): Pick<RoutingMetrics, 'decision' | 'skip'> & { decisions: RouteOutcome[]; skips: Array<RouteSkip['why']> } {
  const decisions: RouteOutcome[] = [];
  const skips: Array<RouteSkip['why']> = [];
  return { decisions, skips, decision: (o) => decisions.push(o), skip: (w) => skips.push(w) };
}

let miners: string[];
beforeAll(async () => {
  await initCrypto();
  miners = ['a', 'b', 'c', 'd'].map((name) => devHotkey(`router-test-miner-${name}`).ss58);
});

function setup(overrides: Partial<JobRouterOptions> = {}, minerList: Array<{ hotkey: string; address?: string; port?: number }> = miners.map((hotkey) => ({ hotkey }))) {
  const metagraph = staticMetagraphProvider({
    miners: minerList.map((m, i) => ({ hotkey: m.hotkey, address: m.address ?? '127.0.0.1', port: m.port ?? 9000 + i })),
  });
  const manifests = new FakeBook();
  const busy = createBusyTracker();
  const ledger = createReliabilityLedger();
  const availability = createMinerAvailability({ policy: { failureThreshold: 1 } });
  const metrics = fakeMetrics();
  const router = createJobRouter({ metagraph, manifests, busy, ledger, availability, random: seededRandom(7), metrics, ...overrides });
  return { metagraph, manifests, busy, ledger, availability, metrics, router };
}

describe('createJobRouter', () => {
  it('routes to the only miner with a fresh manifest offering the class', () => {
    const { router, manifests, metrics } = setup();
    manifests.set(miners[1]!, { 'always_on.test': 1 });
    const decision = router.pick(jobRequest(), NOW);
    expect(decision).toEqual({ ok: true, route: { miner: { hotkey: miners[1], address: '127.0.0.1', port: 9001 }, trusted: false } });
    expect(metrics.decisions).toEqual(['routed']);
    expect(metrics.skips.sort()).toEqual(['no_manifest', 'no_manifest', 'no_manifest']);
  });

  it('refuses with no_miner_for_job and lists every miner passed over and why', () => {
    const { router, manifests, busy, availability, metrics } = setup({}, [
      { hotkey: miners[0]! },
      { hotkey: miners[1]! },
      { hotkey: miners[2]! },
      { hotkey: miners[3]!, address: '0.0.0.0' },
    ]);
    manifests.set(miners[0]!, { 'always_on.test': 1 }, NOW - HOUR); // stale
    manifests.set(miners[1]!, { 'always_on.gpu-24gb': 4 }); // class not offered
    manifests.set(miners[2]!, { 'always_on.test': 1 });
    busy.begin('running', miners[2]!, 'always_on.test'); // no capacity
    availability.recordFailure(miners[2]!, NOW);
    const decision = router.pick(jobRequest(), NOW);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.reason).toBe('no_miner_for_job');
    expect(decision.skipped).toEqual([
      { hotkey: miners[0], why: 'stale_manifest' },
      { hotkey: miners[1], why: 'class_not_offered' },
      { hotkey: miners[2], why: 'no_capacity' },
      { hotkey: miners[3], why: 'not_serving' },
    ]);
    expect(decision.message).toContain('always_on.test');
    expect(decision.message).toContain('1 stale_manifest');
    expect(metrics.decisions).toEqual(['no_miner_for_job']);
  });

  it('routes by free capacity: a miner with every executor busy is skipped until one ends', () => {
    const { router, manifests, busy } = setup({}, [{ hotkey: miners[0]! }]);
    manifests.set(miners[0]!, { 'always_on.test': 2 });
    busy.begin('j1', miners[0]!, 'always_on.test');
    expect(router.pick(jobRequest(), NOW).ok).toBe(true);
    busy.begin('j2', miners[0]!, 'always_on.test');
    const full = router.pick(jobRequest(), NOW);
    expect(full.ok ? [] : full.skipped).toEqual([{ hotkey: miners[0], why: 'no_capacity' }]);
    busy.end('j1');
    busy.end('j1'); // idempotent
    expect(router.pick(jobRequest(), NOW).ok).toBe(true);
  });

  it('treats a manifest older than manifestMaxAgeMs as stale', () => {
    const { router, manifests } = setup({ manifestMaxAgeMs: 60_000 }, [{ hotkey: miners[0]! }]);
    manifests.set(miners[0]!, { 'always_on.test': 1 }, NOW - 60_000);
    expect(router.pick(jobRequest(), NOW).ok).toBe(true);
    const stale = router.pick(jobRequest(), NOW + 1);
    expect(stale.ok ? [] : stale.skipped).toEqual([{ hotkey: miners[0], why: 'stale_manifest' }]);
  });

  it('skips a miner whose circuit is open and falls through to the next', () => {
    const { router, manifests, availability } = setup({}, [{ hotkey: miners[0]! }, { hotkey: miners[1]! }]);
    manifests.set(miners[0]!, { 'always_on.test': 1 });
    manifests.set(miners[1]!, { 'always_on.test': 1 });
    availability.recordFailure(miners[0]!, NOW); // threshold 1: open
    for (let i = 0; i < 20; i++) {
      const decision = router.pick(jobRequest(), NOW);
      expect(decision.ok && decision.route.miner.hotkey).toBe(miners[1]);
    }
    availability.recordFailure(miners[1]!, NOW);
    const none = router.pick(jobRequest(), NOW);
    expect(none.ok ? [] : [...none.skipped].sort((x, y) => x.hotkey.localeCompare(y.hotkey))).toEqual(
      [
        { hotkey: miners[0], why: 'circuit_open' },
        { hotkey: miners[1], why: 'circuit_open' },
      ].sort((x, y) => x.hotkey!.localeCompare(y.hotkey!)),
    );
  });

  it('lets one job through as the probe once the cool-down is over, and closes on its success', () => {
    const { router, manifests, availability } = setup({}, [{ hotkey: miners[0]! }]);
    manifests.set(miners[0]!, { 'always_on.test': 1 }, NOW + 120_000);
    availability.recordFailure(miners[0]!, NOW);
    expect(router.pick(jobRequest(), NOW + 1_000).ok).toBe(false);
    const later = NOW + 60_000; // MINER_CIRCUIT_COOL_DOWN_MS
    expect(router.pick(jobRequest(), later).ok).toBe(true); // the probe
    expect(router.pick(jobRequest(), later).ok).toBe(false); // probe slot taken
    availability.recordSuccess(miners[0]!, later);
    expect(router.pick(jobRequest(), later).ok).toBe(true);
  });

  it('sends on_trusted_miner jobs to the configured trusted miner, bypassing manifests', () => {
    const trustedMiner = { hotkey: 'trusted', address: '10.0.0.1', port: 7000 };
    const { router, metrics } = setup({ trustedMiner });
    expect(router.pick(jobRequest({ on_trusted_miner: true }), NOW)).toEqual({ ok: true, route: { miner: trustedMiner, trusted: true } });
    expect(metrics.decisions).toEqual(['trusted']);
  });

  it('refuses on_trusted_miner jobs with no_miner_for_job when no trusted miner is configured', () => {
    const { router, manifests } = setup();
    manifests.set(miners[0]!, { 'always_on.test': 1 });
    const decision = router.pick(jobRequest({ on_trusted_miner: true }), NOW);
    expect(decision).toMatchObject({ ok: false, reason: 'no_miner_for_job', skipped: [] });
    expect(decision.ok ? '' : decision.message).toMatch(/trusted miner/);
  });

  it('prefers reliable miners in proportion to upstream’s sigmoid weights (seeded)', () => {
    const { router, manifests, ledger } = setup({ random: seededRandom(12345) }, [{ hotkey: miners[0]! }, { hotkey: miners[1]! }]);
    manifests.set(miners[0]!, { 'always_on.test': 1 });
    manifests.set(miners[1]!, { 'always_on.test': 1 });
    // miner 1: 25 incidents per executor in the last 24 h → score −25 → weight 0.5; miner 0: score 0 → ≈ 0.9933.
    for (let i = 0; i < 25; i++) ledger.recordIncident(miners[1]!, 'always_on.test', 'horde_failed', NOW - i * 60_000);
    // Incidents older than 24 h and of another class do not count.
    for (let i = 0; i < 50; i++) ledger.recordIncident(miners[0]!, 'always_on.test', 'job_failed', NOW - 25 * HOUR - i);
    for (let i = 0; i < 50; i++) ledger.recordIncident(miners[0]!, 'always_on.gpu-24gb', 'job_failed', NOW - i);
    const runs = 20_000;
    let toReliable = 0;
    for (let i = 0; i < runs; i++) {
      const decision = router.pick(jobRequest(), NOW);
      if (decision.ok && decision.route.miner.hotkey === miners[0]) toReliable++;
    }
    const w0 = 1 / (1 + Math.exp(-5));
    const expected = w0 / (w0 + 0.5); // ≈ 0.665
    expect(toReliable / runs).toBeGreaterThan(expected - 0.015);
    expect(toReliable / runs).toBeLessThan(expected + 0.015);
  });

  it('routes equally reliable miners roughly evenly', () => {
    const { router, manifests } = setup({ random: seededRandom(99) });
    for (const m of miners) manifests.set(m, { 'always_on.test': 1 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 8_000; i++) {
      const decision = router.pick(jobRequest(), NOW);
      if (decision.ok) counts.set(decision.route.miner.hotkey, (counts.get(decision.route.miner.hotkey) ?? 0) + 1);
    }
    for (const m of miners) expect(counts.get(m)! / 8_000).toBeCloseTo(0.25, 1);
  });

  it('dilutes incidents by executor count', () => {
    const { router, manifests, ledger } = setup({ random: seededRandom(5) }, [{ hotkey: miners[0]! }, { hotkey: miners[1]! }]);
    // Same 100 incidents; miner 0 has 100 executors (score −1), miner 1 has 1 (score −100 → weight ≈ ε).
    manifests.set(miners[0]!, { 'always_on.test': 100 });
    manifests.set(miners[1]!, { 'always_on.test': 1 });
    for (let i = 0; i < 100; i++) {
      ledger.recordIncident(miners[0]!, 'always_on.test', 'timed_out', NOW - i);
      ledger.recordIncident(miners[1]!, 'always_on.test', 'timed_out', NOW - i);
    }
    let toMiner0 = 0;
    for (let i = 0; i < 2_000; i++) {
      const decision = router.pick(jobRequest(), NOW);
      if (decision.ok && decision.route.miner.hotkey === miners[0]) toMiner0++;
    }
    expect(toMiner0).toBeGreaterThan(1_990);
  });
});

describe('createReliabilityLedger', () => {
  it('counts incidents per (miner, class) since a time', () => {
    const ledger = createReliabilityLedger();
    ledger.recordIncident('m', 'always_on.test', 'job_failed', 100);
    ledger.recordIncident('m', 'always_on.test', 'horde_failed', 300);
    ledger.recordIncident('m', 'always_on.test', 'timed_out', 200); // out of order
    ledger.recordIncident('m', 'always_on.gpu-24gb', 'timed_out', 200);
    expect(ledger.incidents('m', 'always_on.test', 0)).toBe(3);
    expect(ledger.incidents('m', 'always_on.test', 200)).toBe(2);
    expect(ledger.incidents('m', 'always_on.test', 301)).toBe(0);
    expect(ledger.incidents('other', 'always_on.test', 0)).toBe(0);
  });

  it('prunes incidents older than its retention', () => {
    const ledger = createReliabilityLedger({ retentionMs: 1_000 });
    ledger.recordIncident('m', 'always_on.test', 'job_failed', 0);
    ledger.recordIncident('m', 'always_on.test', 'job_failed', 500);
    ledger.recordIncident('m', 'always_on.test', 'job_failed', 1_200); // drops the one at 0
    expect(ledger.size()).toBe(2);
    ledger.prune(2_400); // drops everything before 1_400
    expect(ledger.size()).toBe(0);
  });

  it('caps incidents per pair and pairs overall, counting what it drops', () => {
    const dropped: Array<[string, number]> = [];
    const ledger = createReliabilityLedger({
      maxIncidentsPerKey: 3,
      maxKeys: 2,
      metrics: { ledgerDropped: (what, count) => dropped.push([what, count]) },
    });
    for (let i = 0; i < 5; i++) ledger.recordIncident('a', 'always_on.test', 'job_failed', i);
    expect(ledger.incidents('a', 'always_on.test', 0)).toBe(3);
    ledger.recordIncident('b', 'always_on.test', 'job_failed', 10);
    ledger.recordIncident('c', 'always_on.test', 'job_failed', 11); // forgets 'a', the least recently recorded
    expect(ledger.incidents('a', 'always_on.test', 0)).toBe(0);
    expect(ledger.size()).toBe(2);
    expect(dropped).toEqual([
      ['incident', 1],
      ['incident', 1],
      ['pair', 1],
    ]);
  });
});

describe('createBusyTracker', () => {
  it('counts running jobs per (miner, class), ignores a second begin and an unknown end', () => {
    const busy = createBusyTracker();
    busy.begin('j1', 'm', 'always_on.test');
    busy.begin('j1', 'm', 'always_on.test');
    busy.begin('j2', 'm', 'always_on.test');
    busy.begin('j3', 'm', 'always_on.gpu-24gb');
    expect(busy.busy('m', 'always_on.test')).toBe(2);
    busy.end('nope');
    busy.end('j1');
    expect(busy.busy('m', 'always_on.test')).toBe(1);
    expect(busy.size()).toBe(2);
  });

  it('drops begins beyond its bound and counts them', () => {
    let dropped = 0;
    const busy = createBusyTracker({ maxJobs: 1, metrics: { busyDropped: () => dropped++ } });
    busy.begin('j1', 'm', 'always_on.test');
    busy.begin('j2', 'm', 'always_on.test');
    expect(busy.busy('m', 'always_on.test')).toBe(1);
    expect(dropped).toBe(1);
  });
});

describe('createMinerAvailability', () => {
  it('opens a miner’s breaker after the threshold of failures within the window, others unaffected', () => {
    const availability = createMinerAvailability({ policy: { failureThreshold: 3, failureWindowMs: 10_000, coolDownMs: 5_000 } });
    availability.recordFailure('m', 0);
    availability.recordFailure('m', 1_000);
    expect(availability.isAvailable('m', 1_000)).toBe(true);
    availability.recordFailure('m', 2_000);
    expect(availability.phase('m', 2_000)).toBe('open');
    expect(availability.isAvailable('m', 2_000)).toBe(false);
    expect(availability.isAvailable('other', 2_000)).toBe(true);
    expect(availability.phase('m', 7_000)).toBe('half_open');
  });

  it('forgets failures outside the window', () => {
    const availability = createMinerAvailability({ policy: { failureThreshold: 2, failureWindowMs: 1_000 } });
    availability.recordFailure('m', 0);
    availability.recordFailure('m', 5_000);
    expect(availability.isAvailable('m', 5_000)).toBe(true);
  });

  it('is bounded: the least recently used breaker is forgotten, and counted', () => {
    let evicted = 0;
    const availability = createMinerAvailability({
      policy: { failureThreshold: 1 },
      maxMiners: 2,
      metrics: { availabilityEvicted: () => evicted++ },
    });
    availability.recordFailure('a', 0);
    availability.recordFailure('b', 0);
    availability.recordFailure('c', 0);
    expect(availability.size()).toBe(2);
    expect(evicted).toBe(1);
    expect(availability.isAvailable('a', 0)).toBe(true); // forgotten: closed again
    expect(availability.isAvailable('c', 0)).toBe(false);
  });

  it('refuses an invalid policy at once', () => {
    expect(() => createMinerAvailability({ policy: { failureThreshold: 0 } })).toThrow(/failureThreshold/);
  });
});
