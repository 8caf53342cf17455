import type { Counter, Meter, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../telemetry/meter';

/** How one connection attempt ended. */
export type ConnectOutcome = 'success' | 'failure' | 'timeout';

/**
 * Every instrument of the client transport, created once per meter. Rare events go straight to OpenTelemetry
 * counters; the two per-message counts are plain number fields read by an observable counter at collection time,
 * so the hot path costs one increment instead of an attribute lookup per message.
 *
 * Exported (Prometheus) names: `horde_transport_connects_total{outcome}`, `horde_transport_reconnects_total`,
 * `horde_transport_outbox_dropped_messages_total`, `horde_transport_messages_total{direction}`,
 * `horde_transport_decode_errors_total`, `horde_transport_heartbeat_misses_total`,
 * `horde_transport_open_connections`.
 *
 * @example
 * ```ts
 * const metrics = new TransportMetrics(meterProvider.getMeter('test'));
 * createActor(transportMachine.provide(…), { input: { url, codec, metrics } });
 * ```
 */
export class TransportMetrics {
  /** Frames received from peers (data frames only, acks and pings excluded). Incremented by transports. */
  messagesIn = 0;
  /** Frames handed to sockets (data frames only, resends included). Incremented by transports. */
  messagesOut = 0;

  private readonly connects: Counter;
  private readonly reconnects: Counter;
  private readonly dropped: Counter;
  private readonly decodeErrors: Counter;
  private readonly heartbeatMisses: Counter;
  private readonly openConnections: UpDownCounter;

  constructor(meter: Meter = hordeMeter()) {
    this.connects = meter.createCounter('horde_transport_connects', {
      description: 'Connection attempts of client transports, by outcome (success, failure, timeout).',
      unit: '{connect}',
    });
    this.reconnects = meter.createCounter('horde_transport_reconnects', {
      description: 'Reconnects scheduled after a failed attempt or a lost connection.',
      unit: '{reconnect}',
    });
    this.dropped = meter.createCounter('horde_transport_outbox_dropped_messages', {
      description: 'Outgoing messages lost to a full outbox, a failed close, or a stop while queued.',
      unit: '{message}',
    });
    this.decodeErrors = meter.createCounter('horde_transport_decode_errors', {
      description: 'Incoming frames that could not be decoded (reported as transport.decode_error events).',
      unit: '{frame}',
    });
    this.heartbeatMisses = meter.createCounter('horde_transport_heartbeat_misses', {
      description: 'Pings left unanswered for pongTimeoutMs, each ending its socket.',
      unit: '{miss}',
    });
    this.openConnections = meter.createUpDownCounter('horde_transport_open_connections', {
      description: 'Client transport sockets currently open.',
      unit: '{connection}',
    });
    const messages = meter.createObservableCounter('horde_transport_messages', {
      description: 'Data messages through client transports, by direction (in, out).',
      unit: '{message}',
    });
    messages.addCallback((result) => {
      result.observe(this.messagesIn, { direction: 'in' });
      result.observe(this.messagesOut, { direction: 'out' });
    });
  }

  connectAttempt(outcome: ConnectOutcome): void {
    this.connects.add(1, { outcome });
  }

  reconnectScheduled(): void {
    this.reconnects.add(1);
  }

  outboxDropped(count: number): void {
    if (count > 0) this.dropped.add(count);
  }

  decodeError(): void {
    this.decodeErrors.add(1);
  }

  heartbeatMissed(): void {
    this.heartbeatMisses.add(1);
  }

  connectionOpened(): void {
    this.openConnections.add(1);
  }

  connectionClosed(): void {
    this.openConnections.add(-1);
  }
}

let shared: TransportMetrics | undefined;

/**
 * The process-wide instruments on `hordeMeter()`, created on first use. Create them after telemetry setup has
 * registered its meter provider: instruments made on the no-op meter stay no-ops.
 */
export function defaultTransportMetrics(): TransportMetrics {
  shared ??= new TransportMetrics();
  return shared;
}
