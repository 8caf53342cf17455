/**
 * The router's pure decisions (computehorde-upstream.md §3.8, without allowance): reliability score, routing weight,
 * weighted shuffle, free capacity, manifest freshness and the per-class executor cap. No IO, no clock, no
 * `Math.random`: randomness comes in as a `Random`.
 */
import type { ExecutorClass } from '../../protocol';
import type { Random } from '../../util/clock';
import type { ManifestCounts } from './types';
import {
  MINER_MAX_EXECUTORS_ANY_CLASS,
  MINER_MAX_EXECUTORS_PER_CLASS,
  RELIABILITY_SIGMOID_CENTRE,
  RELIABILITY_SIGMOID_MAX_EXPONENT,
  RELIABILITY_SIGMOID_STEEPNESS,
  RELIABILITY_WEIGHT_EPSILON,
} from './routingDefaults';

/**
 * Upstream's reliability score: `−incidents / executorCount` (incidents of this class in the last 24 h). More
 * executors dilute the same number of incidents. A miner announcing no executor of the class is never routed to;
 * its score is `−incidents` so that the function stays total.
 *
 * @example
 * ```ts
 * reliabilityScore(10, 4); // -2.5
 * ```
 */
export function reliabilityScore(incidents: number, executorCount: number): number {
  if (incidents <= 0) return 0;
  return executorCount > 0 ? -incidents / executorCount : -incidents;
}

/** The sigmoid's shape: centre and steepness, as upstream names them. */
export interface WeightCurve {
  readonly centre: number;
  /** Upstream's `steepness`; the slope is `steepness / −centre`. */
  readonly steepness: number;
  readonly epsilon: number;
}

/** Upstream's curve: centre −25, steepness 5 (slope 0.2), clipped to [1e-6, 1 − 1e-6]. */
export const UPSTREAM_WEIGHT_CURVE: WeightCurve = Object.freeze({
  centre: RELIABILITY_SIGMOID_CENTRE,
  steepness: RELIABILITY_SIGMOID_STEEPNESS,
  epsilon: RELIABILITY_WEIGHT_EPSILON,
});

/**
 * The routing weight of a score: `1 / (1 + e^(−k(score − centre)))` with `k = steepness / −centre`, clipped to
 * `[ε, 1 − ε]`. Before normalisation, like upstream's `sigmoid` + `np.clip`.
 *
 * @example
 * ```ts
 * reliabilityWeight(-25); // 0.5
 * reliabilityWeight(0);   // ≈ 0.9933
 * ```
 */
export function reliabilityWeight(score: number, curve: WeightCurve = UPSTREAM_WEIGHT_CURVE): number {
  const slope = curve.centre === 0 ? curve.steepness : curve.steepness / -curve.centre;
  const rawExponent = -slope * (score - curve.centre);
  const exponent = Number.isNaN(rawExponent)
    ? 0
    : Math.max(-RELIABILITY_SIGMOID_MAX_EXPONENT, Math.min(RELIABILITY_SIGMOID_MAX_EXPONENT, rawExponent));
  const weight = 1 / (1 + Math.exp(exponent));
  return Math.min(1 - curve.epsilon, Math.max(curve.epsilon, weight));
}

/** One item of a weighted shuffle, with the probability it had of being drawn first. */
export interface Shuffled<T> {
  readonly item: T;
  /** Its weight over the sum of all weights (upstream logs these with each routing decision). */
  readonly probability: number;
}

/**
 * Weighted shuffle without replacement (upstream's `numpy.random.choice(replace=False, p=…)`): repeatedly draws one
 * remaining item with probability proportional to its weight. Uses `random` exactly `items.length − 1` times
 * (the last item needs no draw). Weights must be > 0 and finite (use `reliabilityWeight`); others are treated as ε.
 *
 * @example
 * ```ts
 * weightedShuffle(['a', 'b'], [0.99, 0.01], seededRandom(1)).map((s) => s.item); // usually ['a', 'b']
 * ```
 */
export function weightedShuffle<T>(items: readonly T[], weights: readonly number[], random: Random): Array<Shuffled<T>> {
  if (items.length !== weights.length) throw new RangeError(`weightedShuffle: ${items.length} items but ${weights.length} weights`);
  const safe = weights.map((w) => (Number.isFinite(w) && w > 0 ? w : RELIABILITY_WEIGHT_EPSILON));
  const total = safe.reduce((sum, w) => sum + w, 0);
  const remaining = items.map((item, index) => ({ item, weight: safe[index]!, probability: safe[index]! / total }));
  const out: Array<Shuffled<T>> = [];
  while (remaining.length > 1) {
    const left = remaining.reduce((sum, entry) => sum + entry.weight, 0);
    let target = random() * left;
    let chosen = remaining.length - 1;
    for (let i = 0; i < remaining.length; i++) {
      target -= remaining[i]!.weight;
      if (target < 0) {
        chosen = i;
        break;
      }
    }
    const [entry] = remaining.splice(chosen, 1);
    out.push({ item: entry!.item, probability: entry!.probability });
  }
  if (remaining.length === 1) out.push({ item: remaining[0]!.item, probability: remaining[0]!.probability });
  return out;
}

/**
 * Executors of a class a miner can still take from us: its announced count minus our jobs running there, never
 * below 0.
 *
 * @example
 * ```ts
 * freeCapacity({ 'always_on.test': 2 }, 'always_on.test', 1); // 1
 * ```
 */
export function freeCapacity(manifest: ManifestCounts, executorClass: ExecutorClass, busy: number): number {
  const count = manifest[executorClass] ?? 0;
  return Math.max(0, count - Math.max(0, busy));
}

/** Age of a manifest fetched at `fetchedAtMs`, as of `nowMs` (0 if the clock went back). */
export function manifestAgeMs(fetchedAtMs: number, nowMs: number): number {
  return Math.max(0, nowMs - fetchedAtMs);
}

/** Whether a manifest is young enough to route on: its age is at most `maxAgeMs`. */
export function isManifestFresh(fetchedAtMs: number, nowMs: number, maxAgeMs: number): boolean {
  return manifestAgeMs(fetchedAtMs, nowMs) <= maxAgeMs;
}

/** The most executors of `executorClass` one miner is credited with (upstream `DYNAMIC_MINER_MAX_EXECUTORS_PER_CLASS`). */
export function executorCap(
  executorClass: ExecutorClass,
  caps: Readonly<Partial<Record<ExecutorClass, number>>> = MINER_MAX_EXECUTORS_PER_CLASS,
  fallbackCap: number = MINER_MAX_EXECUTORS_ANY_CLASS,
): number {
  return caps[executorClass] ?? fallbackCap;
}

/**
 * A manifest as the validator keeps it: the `unknown` class dropped (nobody routes to it), counts made whole
 * numbers in `[0, cap]`. Upstream stores `min(reported, cap)`.
 *
 * @example
 * ```ts
 * normaliseManifest({ 'always_on.llm.a6000': 5, 'always_on.test': 3 }); // { 'always_on.llm.a6000': 2, 'always_on.test': 3 }
 * ```
 */
export function normaliseManifest(
  manifest: Readonly<Partial<Record<ExecutorClass, number>>>,
  caps: Readonly<Partial<Record<ExecutorClass, number>>> = MINER_MAX_EXECUTORS_PER_CLASS,
  fallbackCap: number = MINER_MAX_EXECUTORS_ANY_CLASS,
): ManifestCounts {
  const out: Partial<Record<ExecutorClass, number>> = {};
  for (const [name, count] of Object.entries(manifest) as Array<[ExecutorClass, number | undefined]>) {
    if (name === 'unknown' || typeof count !== 'number' || !Number.isFinite(count)) continue;
    out[name] = Math.min(executorCap(name, caps, fallbackCap), Math.max(0, Math.floor(count)));
  }
  return Object.freeze(out);
}

/**
 * Whether a metagraph miner has a usable axon. Upstream skips neurons whose axon IP is `0.0.0.0` (not serving).
 */
export function isServing(miner: { readonly address: string; readonly port: number }): boolean {
  const address = miner.address.trim();
  return address !== '' && address !== '0.0.0.0' && address !== '::' && miner.port > 0;
}
