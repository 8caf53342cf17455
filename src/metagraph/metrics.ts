import type { Counter, Meter, ObservableGauge } from '@opentelemetry/api';
import { hordeMeter } from '../telemetry/meter';

/** Instruments of the metagraph providers. */
export interface MetagraphMetrics {
  /** Reload attempts by `outcome`: applied, unchanged, invalid, unreadable. */
  readonly reloads: Counter;
  /** Neurons in the current snapshot by `kind` (validator, active_validator, miner); a provider registers the callback. */
  readonly neurons: ObservableGauge;
}

/**
 * Creates the metagraph instruments from `meter` (the global Horde meter by default).
 *
 * @example
 * ```ts
 * const provider = await createFileMetagraphProvider({ path, metrics: createMetagraphMetrics(testMeter) });
 * ```
 */
export function createMetagraphMetrics(meter: Meter = hordeMeter()): MetagraphMetrics {
  return {
    reloads: meter.createCounter('horde_metagraph_reloads_total', {
      description: 'Metagraph reload attempts by outcome (applied, unchanged, invalid, unreadable)',
    }),
    neurons: meter.createObservableGauge('horde_metagraph_neurons', {
      description: 'Neurons in the current metagraph snapshot by kind',
    }),
  };
}
