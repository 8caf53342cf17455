import type {
  Counter,
  Meter,
  ObservableCounter,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
import { hordeMeter } from './meter';

/*
 * Every instrument of the telemetry area. Names follow `horde_<entity>_<measure>_<unit>`; the Prometheus exporter
 * appends `_total` to counters, so `horde_actor_events` is scraped as `horde_actor_events_total`.
 */

/** Events delivered to actors, by actor kind and (normalised) event type. */
export const ACTOR_EVENTS = 'horde_actor_events';
/** Actors started, by kind. */
export const ACTOR_STARTED = 'horde_actor_started';
/** Actors started and not yet done, failed or stopped, by kind. */
export const ACTOR_LIVE = 'horde_actor_live';
/** Actors that failed, by kind and error code. */
export const ACTOR_ERRORS = 'horde_actor_errors';
/** Restart decisions taken by supervisors, by the supervisor's kind. */
export const ACTOR_RESTARTS = 'horde_actor_restarts';
/** Label values folded into `other` because a cardinality cap was reached, by label name. */
export const LABEL_OVERFLOW = 'horde_telemetry_label_overflow';
/** Exceptions thrown by an inspection observer (the bridge, an inspector) and kept away from the actors. */
export const INSPECTOR_FAILURES = 'horde_telemetry_inspector_failures';
/** Inspection events an inspector sink dropped, by sink (`websocket`, `file`) and reason. */
export const INSPECTOR_DROPPED = 'horde_inspector_dropped_events';

/** Instruments of the actor-event bridge. The first three are observed at scrape time from the bridge's tallies. */
export interface ActorBridgeInstruments {
  readonly meter: Meter;
  readonly events: ObservableCounter;
  readonly started: ObservableCounter;
  readonly live: ObservableUpDownCounter;
  readonly errors: Counter;
  readonly restarts: Counter;
  readonly labelOverflow: Counter;
  readonly failures: Counter;
}

/** Creates the bridge's instruments from `meter` (default: Horde's global meter; pass one for isolated tests). */
export function createActorBridgeInstruments(meter: Meter = hordeMeter()): ActorBridgeInstruments {
  return {
    meter,
    events: meter.createObservableCounter(ACTOR_EVENTS, {
      description: 'Events delivered to actors, by actor kind (machine id or logic name) and normalised event type',
    }),
    started: meter.createObservableCounter(ACTOR_STARTED, { description: 'Actors started, by kind' }),
    live: meter.createObservableUpDownCounter(ACTOR_LIVE, {
      description: 'Actors started and not yet done, failed or stopped, by kind',
    }),
    errors: meter.createCounter(ACTOR_ERRORS, { description: 'Actors that failed, by kind and error code' }),
    restarts: meter.createCounter(ACTOR_RESTARTS, {
      description: "Supervisor restart decisions, by the supervisor's kind",
    }),
    labelOverflow: meter.createCounter(LABEL_OVERFLOW, {
      description: 'Label values folded into "other" because a cardinality cap was reached, by label',
    }),
    failures: meter.createCounter(INSPECTOR_FAILURES, {
      description: 'Exceptions thrown by inspection observers, caught before they reached an actor',
    }),
  };
}

/** Instruments of the inspector sinks. */
export interface InspectorInstruments {
  readonly dropped: Counter;
}

export function createInspectorInstruments(meter: Meter = hordeMeter()): InspectorInstruments {
  return {
    dropped: meter.createCounter(INSPECTOR_DROPPED, {
      description: 'Inspection events an inspector sink dropped, by sink and reason',
    }),
  };
}
