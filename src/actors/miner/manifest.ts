import { ExecutorClass } from '../../protocol/enums';
import { err, ok, type Result } from '../../util/result';
import { EXECUTOR_CLASS_SPIN_UP_MS } from './defaults';

/** Executor count per class: the miner's manifest, and its pools' sizes. */
export type Manifest = Readonly<Partial<Record<ExecutorClass, number>>>;

/** The classes a manifest may name (every known class; never the `unknown` fallback). */
export const KNOWN_EXECUTOR_CLASSES = Object.keys(EXECUTOR_CLASS_SPIN_UP_MS) as ReadonlyArray<Exclude<ExecutorClass, 'unknown'>>;

/**
 * Validates a manifest given as JSON (`{"always_on.test": 2}`): known classes only, counts are integers >= 0. An
 * empty manifest is allowed (a paused miner).
 *
 * @example
 * ```ts
 * parseManifest(JSON.parse('{"always_on.test": 2}')); // ok({ 'always_on.test': 2 })
 * ```
 */
export function parseManifest(json: unknown): Result<Manifest, string[]> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err(['the manifest must be a JSON object']);
  const problems: string[] = [];
  const manifest: Partial<Record<ExecutorClass, number>> = {};
  for (const [name, count] of Object.entries(json as Record<string, unknown>)) {
    if (!(KNOWN_EXECUTOR_CLASSES as readonly string[]).includes(name)) {
      problems.push(`unknown executor class "${name}" (known: ${KNOWN_EXECUTOR_CLASSES.join(', ')})`);
      continue;
    }
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      problems.push(`"${name}": the count must be an integer >= 0`);
      continue;
    }
    manifest[ExecutorClass.is(name) ? name : 'unknown'] = count;
  }
  return problems.length > 0 ? err(problems) : ok(manifest);
}

/** Spin-up time of a class (upstream's `spin_up_time`), with per-class overrides. */
export function spinUpTimeMs(executorClass: ExecutorClass, overrides: Manifest = {}): number {
  const override = overrides[executorClass];
  if (override !== undefined) return override;
  return executorClass === 'unknown' ? 0 : EXECUTOR_CLASS_SPIN_UP_MS[executorClass];
}
