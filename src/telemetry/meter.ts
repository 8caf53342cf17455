import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';

/** Instrumentation scope every Horde instrument is registered under. */
export const HORDE_SCOPE = 'horde';

/**
 * The meter Horde's instruments come from. Before `setupTelemetry()` registers a provider this is OpenTelemetry's
 * no-op meter, so tests pay nothing. Beware: unlike the tracer, an instrument created from the no-op meter STAYS a
 * no-op after setup (the metrics API has no proxy), so create instruments when an actor or system is built (a
 * factory taking a `Meter`), never at module load. Modules that want isolation (tests reading exact figures) take
 * a `Meter` as an option and fall back to this.
 *
 * Instrument names follow `horde_<entity>_<measure>_<unit>` (`horde_transport_outbox_dropped_messages`).
 */
export function hordeMeter(): Meter {
  return metrics.getMeter(HORDE_SCOPE);
}

/** The tracer Horde's spans come from (no-op until a tracer provider is registered). */
export function hordeTracer(): Tracer {
  return trace.getTracer(HORDE_SCOPE);
}
