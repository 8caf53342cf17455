import { errorCode } from '../util/errors';
import type { Decider, Directive, RestartType } from './policy';

/**
 * How a child ended: it completed (reached a final state, its promise resolved: `xstate.done.actor.<id>`) or it
 * failed (`xstate.error.actor.<id>`).
 */
export type ChildExit = { readonly kind: 'normal' } | { readonly kind: 'error'; readonly error: unknown };

/** The `errorCode` reported in decisions about a child that completed normally (OTP's exit reason `normal`). */
export const NORMAL_EXIT_CODE = 'normal';

/** The code a decision reports for an exit: the error's code, or {@link NORMAL_EXIT_CODE}. */
export function exitCode(exit: ChildExit): string {
  return exit.kind === 'normal' ? NORMAL_EXIT_CODE : errorCode(exit.error);
}

/**
 * The restart type's own answer (OTP): `permanent` restarts always, `transient` only after an error, `temporary`
 * never.
 */
export function defaultDirective(restart: RestartType, exit: ChildExit['kind']): Directive {
  switch (restart) {
    case 'permanent':
      return 'restart';
    case 'transient':
      return exit === 'error' ? 'restart' : 'stop';
    case 'temporary':
      return 'stop';
  }
}

/**
 * The directive for one exit: the decider classifies errors ("what failed"), the restart type bounds the answer.
 *
 * - A normal completion is never shown to the decider: only the restart type decides.
 * - A decider's `undefined` falls back to {@link defaultDirective}.
 * - A `temporary` child is never brought back: `restart` and `resume` become `stop` (`escalate` stands).
 * - A decider that throws escalates, with what it threw as the cause: the supervisor cannot tell what is safe.
 */
export function decide(
  decider: Decider | undefined,
  restart: RestartType,
  exit: ChildExit,
): { directive: Directive; deciderError?: unknown } {
  if (exit.kind === 'normal') return { directive: defaultDirective(restart, 'normal') };
  let chosen: Directive | undefined;
  try {
    chosen = decider?.(exit.error);
  } catch (deciderError) {
    return { directive: 'escalate', deciderError };
  }
  const directive = chosen ?? defaultDirective(restart, 'error');
  if (restart === 'temporary' && (directive === 'restart' || directive === 'resume')) return { directive: 'stop' };
  return { directive };
}

/**
 * A decider from a table of error codes (`errorCode(error)`, so `HordeError` codes and Node's `ECONNRESET` alike).
 * Codes not in the table go to `fallback`, or to the restart type's default.
 *
 * @example
 * ```ts
 * const decider = deciderFromCodes({ 'pool.full': 'resume', 'config.invalid': 'escalate' });
 * const policy = { strategy: 'one_for_one', intensity: 5, periodMs: 30_000, decider };
 * ```
 */
export function deciderFromCodes(codes: Readonly<Record<string, Directive>>, fallback?: Decider): Decider {
  const table = new Map(Object.entries(codes));
  return (error) => table.get(errorCode(error)) ?? fallback?.(error);
}

/**
 * Chains deciders: the first one with an answer wins; none answering leaves it to the restart type.
 *
 * @example
 * ```ts
 * const decider = composeDeciders(
 *   deciderFromCodes({ 'pool.full': 'resume' }),
 *   (e) => (e instanceof TypeError ? 'escalate' : undefined),
 * );
 * ```
 */
export function composeDeciders(...deciders: readonly Decider[]): Decider {
  return (error) => {
    for (const decider of deciders) {
      const directive = decider(error);
      if (directive !== undefined) return directive;
    }
    return undefined;
  };
}
