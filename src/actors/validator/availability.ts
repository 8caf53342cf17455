/**
 * Per-miner availability: one circuit breaker (src/resilience `CircuitBreaker`) per miner, fed by both the manifest
 * fetcher (each failed dial) and organic job connections. The router skips a miner whose breaker is open
 * (`circuit_open`); a half-open breaker admits one dial (a fetch or a job) as its probe.
 *
 * Time comes from the caller (`nowMs` on every call), so the breakers run on whatever clock the router and the
 * fetcher use; nothing here sets a timer.
 */
import { CircuitBreaker, circuitBreakerPolicy, type CircuitBreakerPolicy, type CircuitPhase, type CircuitTransition } from '../../resilience/circuitBreaker';
import type { CircuitMetrics } from '../../resilience/metrics';
import type { Logger } from '../../telemetry/logger';
import type { MinerAvailability } from './types';
import { AVAILABILITY_MAX_MINERS, DEFAULT_MINER_CIRCUIT_POLICY } from './routingDefaults';
import type { RoutingMetrics } from './routingMetrics';

export interface MinerAvailabilityOptions {
  /** Overrides of `DEFAULT_MINER_CIRCUIT_POLICY` (validated at once: a bad policy throws `CircuitPolicyError`). */
  readonly policy?: Partial<CircuitBreakerPolicy>;
  /** Breakers kept at once; the least recently used is forgotten beyond it. @default AVAILABILITY_MAX_MINERS */
  readonly maxMiners?: number;
  /** Shared breaker instruments (`horde_circuit_*{name=<hotkey>}`); none by default. */
  readonly circuitMetrics?: CircuitMetrics;
  /** Counts evictions. */
  readonly metrics?: Pick<RoutingMetrics, 'availabilityEvicted'>;
  /** Logs each phase change at info (open at warn). */
  readonly logger?: Logger;
}

/** The availability map with read-only views for logs, tests and the validator's health page. */
export interface CircuitMinerAvailability extends MinerAvailability {
  /** The miner's breaker phase as of `nowMs` (`closed` for a miner never seen failing). Does not admit anything. */
  phase(hotkey: string, nowMs: number): CircuitPhase;
  /** Breakers held. */
  size(): number;
}

/**
 * @example
 * ```ts
 * const availability = createMinerAvailability({ policy: { failureThreshold: 3 }, logger });
 * if (availability.isAvailable(miner, clock.nowMs())) dial(miner);
 * availability.recordFailure(miner, clock.nowMs()); // after a refused connection
 * ```
 */
export function createMinerAvailability(options: MinerAvailabilityOptions = {}): CircuitMinerAvailability {
  const policy = circuitBreakerPolicy({ ...DEFAULT_MINER_CIRCUIT_POLICY, ...options.policy });
  const maxMiners = options.maxMiners ?? AVAILABILITY_MAX_MINERS;
  if (!Number.isInteger(maxMiners) || maxMiners < 1) throw new RangeError(`maxMiners must be an integer >= 1 (got ${maxMiners})`);
  // Every breaker reads this one clock; each call sets it to the caller's `nowMs` first.
  let nowMs = 0;
  const clock = { nowMs: () => nowMs };
  const onTransition = (transition: CircuitTransition): void => {
    const fields = { miner: transition.name, from: transition.from, to: transition.to };
    if (transition.to === 'open') options.logger?.warn('miner circuit opened', fields);
    else options.logger?.info('miner circuit changed', fields);
  };
  const breakers = new Map<string, CircuitBreaker>();

  const touch = (hotkey: string, create: boolean): CircuitBreaker | undefined => {
    const existing = breakers.get(hotkey);
    if (existing !== undefined) {
      breakers.delete(hotkey);
      breakers.set(hotkey, existing);
      return existing;
    }
    if (!create) return undefined;
    if (breakers.size >= maxMiners) {
      const oldest = breakers.keys().next().value as string;
      breakers.delete(oldest);
      options.metrics?.availabilityEvicted();
    }
    const breaker = new CircuitBreaker({
      name: hotkey,
      policy,
      clock,
      ...(options.circuitMetrics ? { metrics: options.circuitMetrics } : {}),
      onTransition,
    });
    breakers.set(hotkey, breaker);
    return breaker;
  };

  return {
    isAvailable(hotkey, atMs) {
      nowMs = atMs;
      const breaker = touch(hotkey, false);
      return breaker === undefined || breaker.tryAcquire().allowed;
    },
    recordFailure(hotkey, atMs) {
      nowMs = atMs;
      touch(hotkey, true)!.recordFailure();
    },
    recordSuccess(hotkey, atMs) {
      nowMs = atMs;
      touch(hotkey, false)?.recordSuccess();
    },
    phase(hotkey, atMs) {
      nowMs = atMs;
      return breakers.get(hotkey)?.phase ?? 'closed';
    },
    size: () => breakers.size,
  };
}
