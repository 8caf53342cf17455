/**
 * The root of every error Horde raises on purpose.
 *
 * Each subclass carries a stable `code` (never reworded: metrics, deciders and tests match on it) and, where the
 * error ends a WebSocket, the close code it maps to. Subclasses stay small and live next to the module that throws
 * them.
 *
 * @example
 * ```ts
 * class PoolFullError extends HordeError {
 *   constructor(executorClass: string) { super('pool.full', `no free executor of class ${executorClass}`); }
 * }
 * ```
 */
export class HordeError extends Error {
  /** Stable, dotted, machine-readable identifier (`transport.connect_timeout`). */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Reads a stable code off anything thrown: a HordeError's code, a Node system error's code, or `unknown`. */
export function errorCode(error: unknown): string {
  if (error instanceof HordeError) return error.code;
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'string' && code.length > 0) return code;
  }
  return 'unknown';
}

/** Turns anything thrown into an Error without losing it (a thrown string keeps its text). */
export function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(typeof error === 'string' ? error : JSON.stringify(error));
}
