/**
 * Pure choice of the validator a job goes to (upstream's `Job.save` routing; its legacy least-recent-job rule when
 * no target is named).
 */

/** What picking a validator came to. */
export type ValidatorChoice = { readonly ok: true; readonly hotkey: string } | { readonly ok: false };

/**
 * A named target must be fresh; without one, the fresh validator whose last job is oldest (never-used first, ties by
 * hotkey so the choice is deterministic).
 *
 * @example
 * ```ts
 * selectValidator({ target: null, fresh: ['5A', '5B'], lastJobMs: new Map([['5A', 10]]) }); // { ok: true, hotkey: '5B' }
 * ```
 */
export function selectValidator(options: {
  readonly target: string | null;
  readonly fresh: readonly string[];
  readonly lastJobMs: ReadonlyMap<string, number>;
}): ValidatorChoice {
  if (options.target !== null) return options.fresh.includes(options.target) ? { ok: true, hotkey: options.target } : { ok: false };
  let best: string | undefined;
  let bestAt = Infinity;
  for (const hotkey of [...options.fresh].sort()) {
    const at = options.lastJobMs.get(hotkey) ?? -Infinity;
    if (best === undefined || at < bestAt) {
      best = hotkey;
      bestAt = at;
    }
  }
  return best === undefined ? { ok: false } : { ok: true, hotkey: best };
}
