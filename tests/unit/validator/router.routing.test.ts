/**
 * Table tests of the router's pure decisions (src/actors/validator/routing.ts).
 */
import {
  executorCap,
  freeCapacity,
  isManifestFresh,
  isServing,
  manifestAgeMs,
  normaliseManifest,
  reliabilityScore,
  reliabilityWeight,
  weightedShuffle,
} from '../../../src/actors/validator/routing';
import { seededRandom } from '../../../src/util/clock';

describe('reliabilityScore', () => {
  it.each([
    { incidents: 0, executors: 4, score: 0 },
    { incidents: 10, executors: 4, score: -2.5 },
    { incidents: 10, executors: 1, score: -10 },
    { incidents: 50, executors: 2, score: -25 },
    { incidents: 3, executors: 0, score: -3 },
  ])('is −$incidents / $executors = $score', ({ incidents, executors, score }) => {
    expect(reliabilityScore(incidents, executors)).toBeCloseTo(score, 12);
  });
});

describe('reliabilityWeight (upstream sigmoid, centre −25, k = 5/25)', () => {
  it.each([
    { score: -25, weight: 0.5 },
    { score: 0, weight: 1 / (1 + Math.exp(-5)) },
    { score: -50, weight: 1 / (1 + Math.exp(5)) },
    { score: -10, weight: 1 / (1 + Math.exp(-3)) },
    { score: -40, weight: 1 / (1 + Math.exp(3)) },
  ])('maps score $score to $weight', ({ score, weight }) => {
    expect(reliabilityWeight(score)).toBeCloseTo(weight, 12);
  });

  it.each([
    { score: 1e9, weight: 1 - 1e-6 },
    { score: -1e9, weight: 1e-6 },
    { score: Number.POSITIVE_INFINITY, weight: 1 - 1e-6 },
    { score: Number.NEGATIVE_INFINITY, weight: 1e-6 },
  ])('clips score $score to $weight', ({ score, weight }) => {
    expect(reliabilityWeight(score)).toBe(weight);
  });

  it('never rises as incidents grow', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let incidents = 0; incidents <= 200; incidents++) {
      const weight = reliabilityWeight(reliabilityScore(incidents, 2));
      expect(weight).toBeLessThanOrEqual(previous);
      previous = weight;
    }
  });
});

describe('weightedShuffle', () => {
  it.each([
    { name: 'empty', items: [] as string[], weights: [] as number[] },
    { name: 'one item', items: ['a'], weights: [0.5] },
    { name: 'equal weights', items: ['a', 'b', 'c'], weights: [0.5, 0.5, 0.5] },
    { name: 'duplicates and extremes', items: ['a', 'b', 'c', 'd', 'e'], weights: [1e-6, 1e-6, 1 - 1e-6, 0.3, 0.3] },
    { name: 'invalid weights fall back to ε', items: ['a', 'b', 'c'], weights: [0, Number.NaN, -1] },
  ])('returns every item exactly once ($name)', ({ items, weights }) => {
    const out = weightedShuffle(items, weights, seededRandom(3));
    expect(out.map((s) => s.item).sort()).toEqual([...items].sort());
  });

  it('reports each item’s first-draw probability (its weight over the total)', () => {
    const out = weightedShuffle(['a', 'b'], [0.75, 0.25], seededRandom(1));
    const byItem = Object.fromEntries(out.map((s) => [s.item, s.probability]));
    expect(byItem).toEqual({ a: 0.75, b: 0.25 });
  });

  it.each([
    { draws: [0.0], first: 'a' },
    { draws: [0.59], first: 'a' },
    { draws: [0.61], first: 'b' },
    { draws: [0.99], first: 'c' },
  ])('draws proportionally to weight: random() = $draws.0 puts $first first', ({ draws, first }) => {
    const queue = [...draws, 0];
    const out = weightedShuffle(['a', 'b', 'c'], [0.6, 0.3, 0.1], () => queue.shift()!);
    expect(out[0]!.item).toBe(first);
  });

  it('uses the injected random n − 1 times', () => {
    let calls = 0;
    weightedShuffle(['a', 'b', 'c', 'd'], [1, 1, 1, 1], () => {
      calls++;
      return 0.5;
    });
    expect(calls).toBe(3);
  });

  it('puts heavier items first on average (seeded)', () => {
    const weights = [0.9, 0.1, 0.5, 0.7, 0.3];
    const items = weights.map((_, i) => i);
    const positionSums = items.map(() => 0);
    const random = seededRandom(42);
    for (let run = 0; run < 5_000; run++)
      weightedShuffle(items, weights, random).forEach((s, position) => (positionSums[s.item]! += position));
    const byMeanPosition = [...items].sort((x, y) => positionSums[x]! - positionSums[y]!);
    expect(byMeanPosition.map((i) => weights[i])).toEqual([0.9, 0.7, 0.5, 0.3, 0.1]);
  });

  it('refuses items and weights of different lengths', () => {
    expect(() => weightedShuffle(['a'], [], seededRandom(1))).toThrow(RangeError);
  });
});

describe('freeCapacity', () => {
  it.each([
    { manifest: { 'always_on.test': 2 }, busy: 0, free: 2 },
    { manifest: { 'always_on.test': 2 }, busy: 1, free: 1 },
    { manifest: { 'always_on.test': 2 }, busy: 2, free: 0 },
    { manifest: { 'always_on.test': 2 }, busy: 5, free: 0 },
    { manifest: { 'always_on.gpu-24gb': 3 }, busy: 0, free: 0 },
    { manifest: {}, busy: 0, free: 0 },
  ] as const)('manifest $manifest with $busy busy → $free free (always_on.test)', ({ manifest, busy, free }) => {
    expect(freeCapacity(manifest, 'always_on.test', busy)).toBe(free);
  });
});

describe('manifest freshness', () => {
  it.each([
    { fetchedAtMs: 1_000, nowMs: 1_000, maxAgeMs: 0, fresh: true },
    { fetchedAtMs: 1_000, nowMs: 61_000, maxAgeMs: 60_000, fresh: true },
    { fetchedAtMs: 1_000, nowMs: 61_001, maxAgeMs: 60_000, fresh: false },
    { fetchedAtMs: 5_000, nowMs: 1_000, maxAgeMs: 0, fresh: true },
  ])('fetched at $fetchedAtMs, now $nowMs, max age $maxAgeMs → fresh: $fresh', ({ fetchedAtMs, nowMs, maxAgeMs, fresh }) => {
    expect(isManifestFresh(fetchedAtMs, nowMs, maxAgeMs)).toBe(fresh);
  });

  it('reports age 0 when the clock went back', () => {
    expect(manifestAgeMs(5_000, 1_000)).toBe(0);
    expect(manifestAgeMs(1_000, 5_000)).toBe(4_000);
  });
});

describe('normaliseManifest (upstream DYNAMIC_MINER_MAX_EXECUTORS_PER_CLASS)', () => {
  it.each([
    { raw: { 'always_on.llm.a6000': 5 }, kept: { 'always_on.llm.a6000': 2 } },
    { raw: { 'always_on.llm.a6000': 1, 'always_on.test': 3 }, kept: { 'always_on.llm.a6000': 1, 'always_on.test': 3 } },
    { raw: { 'always_on.test': 5_000 }, kept: { 'always_on.test': 1_000 } },
    { raw: { 'always_on.test': -2 }, kept: { 'always_on.test': 0 } },
    { raw: { unknown: 4, 'always_on.test': 1 }, kept: { 'always_on.test': 1 } },
    { raw: {}, kept: {} },
  ] as const)('keeps $raw as $kept', ({ raw, kept }) => {
    expect(normaliseManifest(raw)).toEqual(kept);
  });

  it('applies custom caps', () => {
    expect(executorCap('always_on.test', { 'always_on.test': 4 })).toBe(4);
    expect(normaliseManifest({ 'always_on.test': 9 }, { 'always_on.test': 4 })).toEqual({ 'always_on.test': 4 });
  });
});

describe('isServing', () => {
  it.each([
    { address: '127.0.0.1', port: 8000, serving: true },
    { address: 'miner.example', port: 8000, serving: true },
    { address: '0.0.0.0', port: 8000, serving: false },
    { address: '::', port: 8000, serving: false },
    { address: ' ', port: 8000, serving: false },
    { address: '127.0.0.1', port: 0, serving: false },
  ])('$address:$port → $serving', ({ address, port, serving }) => {
    expect(isServing({ address, port })).toBe(serving);
  });
});
