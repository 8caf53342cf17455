import type { Attributes, BatchObservableCallback } from '@opentelemetry/api';
import type { ActorRefLike, AnyActorRef, InspectionEvent, Observer, Subscription } from 'xstate';
import { errorCode } from '../util/errors';
import {
  DEFAULT_MAX_ACTOR_KINDS,
  DEFAULT_MAX_ERROR_CODES_PER_KIND,
  DEFAULT_MAX_EVENT_TYPES_PER_KIND,
  OVERFLOW_LABEL,
  SUPERVISOR_DECISION_EVENT,
} from './defaults';
import { createActorBridgeInstruments, type ActorBridgeInstruments } from './metrics';

/** An `inspect` observer as XState accepts it. */
export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * Label value for an actor's kind: the machine id for machines (`transport`), else the name the parent gave the
 * logic in `setup({ actors })` (`fetchManifest`), else the logic function's name, else XState's generated key for
 * inline invoked logic (`xstate.invoke.0.parent.state`), else `anonymous`. Never the per-instance id (a job uuid
 * would make one series per job).
 */
export function actorKind(ref: ActorRefLike): string {
  const actor = ref as { logic?: unknown; src?: unknown };
  const logic = actor.logic as { __xstatenode?: unknown; id?: unknown; config?: unknown } | undefined;
  const isMachine = logic !== undefined && logic !== null && logic.__xstatenode === true;
  if (isMachine && typeof logic.id === 'string' && logic.id !== '(machine)') return logic.id;
  const src = typeof actor.src === 'string' ? actor.src : undefined;
  // Inline logic in an `invoke` gets a generated src (`xstate.invoke.0.parent.state`): a last resort only.
  if (src !== undefined && !src.startsWith('xstate.invoke.')) return src;
  const config = logic?.config;
  if (!isMachine && typeof config === 'function' && config.name !== '') return config.name;
  return src ?? (isMachine ? '(machine)' : 'anonymous');
}

/**
 * Folds XState's per-instance event types into bounded labels: `xstate.error.actor.<id>` → `xstate.error.actor`,
 * likewise `xstate.done.actor.*`, `xstate.done.state.*`, `xstate.after.*`, `xstate.snapshot.*`. Other types pass
 * through (a machine's own event union is closed, so it is bounded already).
 */
export function normaliseEventType(type: string): string {
  if (!type.startsWith('xstate.')) return type;
  if (type.startsWith('xstate.error.actor.')) return 'xstate.error.actor';
  if (type.startsWith('xstate.done.actor.')) return 'xstate.done.actor';
  if (type.startsWith('xstate.done.state.')) return 'xstate.done.state';
  if (type.startsWith('xstate.after.')) return 'xstate.after';
  if (type.startsWith('xstate.snapshot.')) return 'xstate.snapshot';
  return type;
}

export interface ActorBridgeOptions {
  /** Instruments to record into (default: created from `hordeMeter()`, so call `setupTelemetry` first). */
  instruments?: ActorBridgeInstruments;
  /** Overrides {@link actorKind}; return `undefined` to fall back to it. Must return a bounded set of values. */
  kindOf?: (ref: ActorRefLike) => string | undefined;
  maxKinds?: number;
  maxEventTypesPerKind?: number;
  maxErrorCodesPerKind?: number;
  /** Emitted event counted as a restart when its `directive` is `restart`; `false` to not listen. */
  supervisorDecisionEvent?: string | false;
  /** Receives exceptions the bridge caught (they are also counted). Default: `process.emitWarning`. */
  onError?: (error: unknown) => void;
}

/** Current tallies, by kind (for tests and `horde` debugging output). */
export interface ActorBridgeCounts {
  [kind: string]: { started: number; live: number; events: Record<string, number> };
}

export interface ActorBridge {
  /** The observer to pass as `createActor(root, { inspect })` (or through {@link combineInspectors}). */
  readonly inspect: Observer<InspectionEvent>;
  /** Attaches the bridge to an already running system (`root.system.inspect`); undone by `dispose()`. */
  attach(root: AnyActorRef): void;
  counts(): ActorBridgeCounts;
  /** Stops observing instruments and ignores further events. */
  dispose(): void;
}

interface Cell {
  n: number;
  readonly attributes: Attributes;
}

interface KindStats {
  readonly name: string;
  readonly started: Cell;
  readonly live: Cell;
  /** Normalised event type to its cell. */
  readonly events: Map<string, Cell>;
  readonly errorAttributes: Map<string, Attributes>;
  readonly restartAttributes: Attributes;
}

interface ActorRecord {
  readonly kind: KindStats;
  /** Its `xstate.init` was seen, so it is in `started` and `live`. */
  counted: boolean;
  /** It reached done, error or stopped. */
  ended: boolean;
}

/**
 * Counts what happens in an actor system into Prometheus-friendly, bounded series:
 * `horde_actor_events_total{kind,event}`, `horde_actor_started_total{kind}`, `horde_actor_live{kind}`,
 * `horde_actor_errors_total{kind,code}` and `horde_actor_restarts_total{supervisor}`.
 *
 * The hot path (one delivered event) is a WeakMap lookup, a Map lookup and an increment; the totals are handed to
 * OpenTelemetry only when a scrape collects them (observable instruments). See `bench/telemetry.ts` for its cost.
 *
 * Limits: an actor whose logic fails inside XState's transition with no parent (a root machine whose action throws)
 * produces no inspection event, so that one error is not counted; `/healthz` still reports it.
 *
 * @example
 * ```ts
 * const telemetry = await setupTelemetry({ serviceName: 'horde-miner', role: 'miner' });
 * const bridge = createActorBridge();
 * const root = createActor(minerRootMachine, { input, inspect: combineInspectors(bridge.inspect, inspectorFromEnv()?.inspect) });
 * ```
 */
export function createActorBridge(options: ActorBridgeOptions = {}): ActorBridge {
  const instruments = options.instruments ?? createActorBridgeInstruments();
  const maxKinds = options.maxKinds ?? DEFAULT_MAX_ACTOR_KINDS;
  const maxEventTypes = options.maxEventTypesPerKind ?? DEFAULT_MAX_EVENT_TYPES_PER_KIND;
  const maxErrorCodes = options.maxErrorCodesPerKind ?? DEFAULT_MAX_ERROR_CODES_PER_KIND;
  const decisionEvent =
    options.supervisorDecisionEvent === undefined ? SUPERVISOR_DECISION_EVENT : options.supervisorDecisionEvent;
  const onError = options.onError ?? ((error: unknown) => process.emitWarning(toWarning(error)));

  const kinds = new Map<string, KindStats>();
  const records = new WeakMap<object, ActorRecord>();
  const subscriptions: Subscription[] = [];
  let disposed = false;

  const overflowAttrs = (label: string): Attributes => ({ label });
  const overflowKind = overflowAttrs('kind');
  const overflowEvent = overflowAttrs('event');
  const overflowCode = overflowAttrs('code');

  function newKind(name: string): KindStats {
    return {
      name,
      started: { n: 0, attributes: { kind: name } },
      live: { n: 0, attributes: { kind: name } },
      events: new Map(),
      errorAttributes: new Map(),
      restartAttributes: { supervisor: name },
    };
  }

  function kindStats(ref: ActorRefLike): KindStats {
    const name = options.kindOf?.(ref) ?? actorKind(ref);
    let stats = kinds.get(name);
    if (stats !== undefined) return stats;
    if (kinds.size >= maxKinds) {
      instruments.labelOverflow.add(1, overflowKind);
      stats = kinds.get(OVERFLOW_LABEL);
      if (stats !== undefined) return stats;
      stats = newKind(OVERFLOW_LABEL);
      kinds.set(OVERFLOW_LABEL, stats);
      return stats;
    }
    stats = newKind(name);
    kinds.set(name, stats);
    return stats;
  }

  function recordOf(ref: ActorRefLike): ActorRecord {
    let record = records.get(ref);
    if (record === undefined) {
      record = { kind: kindStats(ref), counted: false, ended: false };
      records.set(ref, record);
    }
    return record;
  }

  function eventCell(kind: KindStats, type: string): Cell {
    const label = normaliseEventType(type);
    let cell = kind.events.get(label);
    if (cell !== undefined) return cell;
    if (kind.events.size >= maxEventTypes) {
      instruments.labelOverflow.add(1, overflowEvent);
      cell = kind.events.get(OVERFLOW_LABEL);
      if (cell !== undefined) return cell;
      cell = { n: 0, attributes: { kind: kind.name, event: OVERFLOW_LABEL } };
      kind.events.set(OVERFLOW_LABEL, cell);
      return cell;
    }
    cell = { n: 0, attributes: { kind: kind.name, event: label } };
    kind.events.set(label, cell);
    return cell;
  }

  function countError(kind: KindStats, error: unknown): void {
    const code = errorCode(error);
    let attributes = kind.errorAttributes.get(code);
    if (attributes === undefined) {
      if (kind.errorAttributes.size >= maxErrorCodes) {
        instruments.labelOverflow.add(1, overflowCode);
        attributes = kind.errorAttributes.get(OVERFLOW_LABEL) ?? { kind: kind.name, code: OVERFLOW_LABEL };
        kind.errorAttributes.set(OVERFLOW_LABEL, attributes);
      } else {
        attributes = { kind: kind.name, code };
        kind.errorAttributes.set(code, attributes);
      }
    }
    instruments.errors.add(1, attributes);
  }

  function end(record: ActorRecord): void {
    if (record.ended) return;
    record.ended = true;
    if (record.counted) record.kind.live.n -= 1;
  }

  function onActor(ref: ActorRefLike): void {
    const record = recordOf(ref);
    if (decisionEvent === false) return;
    const actor = ref as Partial<AnyActorRef> & { logic?: { __xstatenode?: unknown } };
    // Only machines emit supervisor decisions; listening on every promise actor would cost a Map per actor.
    if (actor.logic?.__xstatenode !== true || typeof actor.on !== 'function') return;
    actor.on(decisionEvent, (emitted: { directive?: unknown }) => {
      if (!disposed && emitted.directive === 'restart') instruments.restarts.add(1, record.kind.restartAttributes);
    });
  }

  function handle(event: InspectionEvent): void {
    switch (event.type) {
      case '@xstate.event': {
        const record = recordOf(event.actorRef);
        const type = event.event.type;
        if (type === 'xstate.init' && !record.counted && !record.ended) {
          record.counted = true;
          record.kind.started.n += 1;
          record.kind.live.n += 1;
        }
        const cell = record.kind.events.get(type) ?? eventCell(record.kind, type);
        cell.n += 1;
        // A child's failure reaches its parent as this event, sent by the child: the one place both are known.
        if (event.sourceRef !== undefined && type.startsWith('xstate.error.actor.')) {
          const failed = recordOf(event.sourceRef);
          if (!failed.ended) {
            countError(failed.kind, (event.event as { error?: unknown }).error);
            end(failed);
          }
        }
        return;
      }
      case '@xstate.snapshot': {
        const status = event.snapshot.status;
        if (status === 'active' && event.event.type !== 'xstate.stop') return;
        const record = recordOf(event.actorRef);
        if (record.ended) return;
        if (status === 'error') countError(record.kind, (event.snapshot as { error?: unknown }).error);
        end(record);
        return;
      }
      case '@xstate.actor':
        onActor(event.actorRef);
        return;
      default:
        return;
    }
  }

  const inspect: Observer<InspectionEvent> = {
    next(event) {
      if (disposed) return;
      try {
        handle(event);
      } catch (error) {
        // Never let telemetry break an actor: the exception would surface inside XState's event processing.
        instruments.failures.add(1, { observer: 'actor_bridge' });
        onError(error);
      }
    },
  };

  const observe: BatchObservableCallback = (result) => {
    for (const kind of kinds.values()) {
      result.observe(instruments.started, kind.started.n, kind.started.attributes);
      result.observe(instruments.live, kind.live.n, kind.live.attributes);
      for (const cell of kind.events.values()) result.observe(instruments.events, cell.n, cell.attributes);
    }
  };
  const observables = [instruments.started, instruments.live, instruments.events];
  instruments.meter.addBatchObservableCallback(observe, observables);

  return {
    inspect,
    attach(root) {
      subscriptions.push(root.system.inspect(inspect));
    },
    counts() {
      const out: ActorBridgeCounts = {};
      for (const kind of kinds.values()) {
        const events: Record<string, number> = {};
        for (const [label, cell] of kind.events) events[label] = cell.n;
        out[kind.name] = { started: kind.started.n, live: kind.live.n, events };
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      instruments.meter.removeBatchObservableCallback(observe, observables);
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}

function toWarning(error: unknown): Error | string {
  return error instanceof Error ? error : String(error);
}

/**
 * Several `inspect` observers as one (the actor bridge and a Stately inspector, say). `undefined`/`false` entries
 * are skipped, and with none left the result is `undefined`, so `createActor(root, { inspect })` pays nothing. An
 * observer that throws is reported (`process.emitWarning`) and does not stop the others or reach the actor.
 *
 * @example
 * ```ts
 * createActor(root, { inspect: combineInspectors(bridge.inspect, inspectorFromEnv()?.inspect) });
 * ```
 */
export function combineInspectors(
  ...observers: ReadonlyArray<InspectObserver | undefined | false | null>
): Observer<InspectionEvent> | undefined {
  const nexts = observers
    .filter((o): o is InspectObserver => o !== undefined && o !== false && o !== null)
    .map((o) => (typeof o === 'function' ? o : o.next?.bind(o)))
    .filter((n): n is (event: InspectionEvent) => void => n !== undefined);
  if (nexts.length === 0) return undefined;
  if (nexts.length === 1) {
    const only = nexts[0]!;
    return { next: (event) => guarded(only, event) };
  }
  return {
    next(event) {
      for (const next of nexts) guarded(next, event);
    },
  };
}

function guarded(next: (event: InspectionEvent) => void, event: InspectionEvent): void {
  try {
    next(event);
  } catch (error) {
    process.emitWarning(toWarning(error));
  }
}
