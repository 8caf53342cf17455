import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

/**
 * Every instrument of the WebSocket acceptor. Attribute `route` is the route's name (never the path: paths carry
 * hotkeys and tokens, which would explode cardinality and leak secrets).
 */
export interface AcceptorMetrics {
  /** Upgrade attempts by `outcome`: accepted, not_found, refused, unavailable, failed. */
  readonly connections: Counter;
  /** Connections currently open (from accepted to closed). */
  readonly openConnections: UpDownCounter;
  /** Closed connections by `code` and `initiator` (server | peer). A 1009 here is an oversize frame. */
  readonly closes: Counter;
  /**
   * Application messages by `route` and `direction` (in | out), after reliable-mode framing is removed. Only those
   * two attributes tell counts apart (an observable counter fed at collection).
   */
  readonly messages: Pick<Counter, 'add'>;
  /** Frames the codec refused. */
  readonly decodeErrors: Counter;
  /** Outgoing messages that were never sent, by `reason` (closing, send_overflow). */
  readonly droppedMessages: Counter;
  /** Errors reported by ws on a socket, by `error` (WS_ERR_* code, or a Node system error code). */
  readonly socketErrors: Counter;
  /** Time from upgrade to the role's `connection.authenticated`. */
  readonly authDurationMs: Histogram;
  /** Reliable-mode frames by `kind`: resent, duplicate, gap, invalid. */
  readonly reliableFrames: Counter;
  /** Reliable sessions forgotten, by `reason` (ttl, capacity). */
  readonly reliableSessionsEvicted: Counter;
}

/**
 * Creates the acceptor's instruments from `meter` (the global Horde meter by default; tests pass their own).
 *
 * @example
 * ```ts
 * const metrics = createAcceptorMetrics();           // production: no-op until telemetry is set up
 * metrics.closes.add(1, { route: 'validator', code: 1008, initiator: 'server' });
 * ```
 */
export function createAcceptorMetrics(meter: Meter = hordeMeter()): AcceptorMetrics {
  const messages = meter.createObservableCounter('horde_acceptor_messages_total', {
    description: 'Application messages by route and direction',
  });
  const messageCounts = new Map<string, { readonly attributes: Attributes; count: number }>();
  messages.addCallback((result) => {
    for (const { attributes, count } of messageCounts.values()) result.observe(count, attributes);
  });
  return {
    connections: meter.createCounter('horde_acceptor_connections_total', {
      description: 'WebSocket upgrade attempts by route and outcome',
    }),
    openConnections: meter.createUpDownCounter('horde_acceptor_open_connections', {
      description: 'WebSocket connections currently open',
    }),
    closes: meter.createCounter('horde_acceptor_closes_total', {
      description: 'Closed WebSocket connections by route, close code and initiator',
    }),
    // Counted here and observed at collection, like the client transport's messages (src/transport/metrics.ts): a
    // synchronous counter hashes its attributes on every add, two adds per request in a burst of initial requests.
    messages: {
      add: (value: number, attributes: Attributes = {}) => {
        const key = `${String(attributes['route'])}\u0000${String(attributes['direction'])}`;
        const entry = messageCounts.get(key);
        if (entry === undefined) messageCounts.set(key, { attributes: { ...attributes }, count: value });
        else entry.count += value;
      },
    },
    decodeErrors: meter.createCounter('horde_acceptor_decode_errors_total', {
      description: 'Incoming frames the codec refused',
    }),
    droppedMessages: meter.createCounter('horde_acceptor_dropped_messages_total', {
      description: 'Outgoing messages never sent, by reason',
    }),
    socketErrors: meter.createCounter('horde_acceptor_socket_errors_total', {
      description: 'Errors raised by ws on accepted sockets',
    }),
    authDurationMs: meter.createHistogram('horde_acceptor_auth_duration_ms', {
      description: 'Time from upgrade to authentication',
      unit: 'ms',
    }),
    reliableFrames: meter.createCounter('horde_acceptor_reliable_frames_total', {
      description: 'Reliable-mode frames resent, deduplicated, refused for a gap, or invalid',
    }),
    reliableSessionsEvicted: meter.createCounter('horde_acceptor_reliable_sessions_evicted_total', {
      description: 'Reliable sessions forgotten because of their TTL or the registry capacity',
    }),
  };
}
