import { err, ok, type Result } from '../util/result';
import { parseMetagraph } from './parse';
import { SnapshotHolder } from './snapshots';
import type { MetagraphProvider, MetagraphSnapshot, MetagraphValidator } from './types';

/** A provider whose snapshot changes only when told: for tests, benchmarks and embedding. */
export interface StaticMetagraphProvider extends MetagraphProvider {
  /** Replaces the snapshot with parsed metagraph JSON (same format as the file provider). */
  set(json: unknown): Result<MetagraphSnapshot, string[]>;
}

/**
 * A metagraph held in memory. `json` uses the file format (see `parse.ts`).
 *
 * @example
 * ```ts
 * const metagraph = staticMetagraphProvider({ validators: [{ hotkey: validator.ss58 }] });
 * metagraph.validator(validator.ss58)?.active; // true
 * ```
 */
export function staticMetagraphProvider(json: unknown = {}): StaticMetagraphProvider {
  const first = parseMetagraph(json);
  if (!first.ok) throw new TypeError(`invalid static metagraph: ${first.error.join('; ')}`);
  const holder = new SnapshotHolder(first.value, undefined, () => undefined);
  return {
    snapshot: () => holder.snapshot,
    validator: (hotkey: string): MetagraphValidator | undefined => holder.snapshot.validators.get(hotkey),
    subscribe: (listener) => holder.subscribe(listener),
    set(next: unknown) {
      const parsed = parseMetagraph(next);
      return parsed.ok ? ok(holder.publish(parsed.value)) : err(parsed.error);
    },
    close: () => {
      holder.dispose();
      return Promise.resolve();
    },
  };
}
