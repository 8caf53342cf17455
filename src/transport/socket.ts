import type { IncomingMessage } from 'node:http';
import { fromCallback, type AnyEventObject } from 'xstate';
import WebSocket from 'ws';
import { toError } from '../util/errors';
import type { TransportMetrics } from './metrics';
import { encodeAckFrame, isReliableHeader, LAST_RECEIVED_HEADER, parseLastReceivedHeader, RELIABLE_HEADER } from './reliable';

/** What the transport machine gives the socket actor when it starts one connection attempt. */
export interface SocketInput {
  readonly url: string;
  /** Upgrade request headers (the owner's, plus the reliable-mode headers when offered). */
  readonly headers: Readonly<Record<string, string>>;
  readonly maxPayloadBytes: number;
  /** `bufferedAmount` at which the socket reports `socket.congested`. */
  readonly highWaterMarkBytes: number;
  /** Where `horde_transport_open_connections` is kept; the socket knows best when it is open. */
  readonly metrics?: TransportMetrics;
}

/**
 * The commands of an open socket, handed to the machine in `socket.open`. The machine calls them from its actions
 * instead of sending events to the socket actor: the send path is the hot path, and a port call costs a function
 * call where an actor hop costs a mailbox round. Every method is a no-op once the socket actor is stopped, so a
 * port kept by mistake cannot touch a newer socket.
 */
export interface SocketPort {
  /** Sends one text frame. A frame sent while the socket is closing is lost, like any frame in flight. */
  send(data: string): void;
  /** Reliable mode: acknowledges through `seq`; acks of one I/O turn leave as one frame (the highest). */
  ack(seq: number): void;
  ping(): void;
  /** Starts the close handshake (`code` must be a valid close code: 1000, or 3000–4999). */
  close(code: number, reason: string): void;
}

/**
 * What a socket actor reports back. Messages of one I/O turn arrive as one `socket.messages` event (in order),
 * which keeps the machine's per-event cost off the per-message path under load. For each socket exactly one
 * `socket.closed` is sent, last, whether the connection opened or not; `error` carries the underlying failure
 * (ECONNREFUSED, a 403 upgrade response, a frame above maxPayload …).
 */
export type SocketEvent =
  | { type: 'socket.open'; reliable: boolean; peerLastReceived: number; port: SocketPort }
  | { type: 'socket.messages'; frames: string[] }
  | { type: 'socket.pong' }
  | { type: 'socket.congested'; bufferedBytes: number }
  | { type: 'socket.drained' }
  | { type: 'socket.closed'; code: number; reason: string; error?: Error };

/** The close code ws reports when a socket ends without a close frame (reset, refused, terminated). */
export const ABNORMAL_CLOSURE = 1006;

function noop(): void {}

/**
 * The real WebSocket effect: one `ws` client connection per actor, injected into the transport machine as its
 * `socket` actor (`transportMachine.provide({ actors: { socket: wsSocket } })`; `createTransport` does this).
 *
 * - Every ws event becomes a {@link SocketEvent}; nothing here throws into XState (an async throw in a callback
 *   actor would crash the process), so every failure is reported through `sendBack`.
 * - Backpressure: before each send, if `bufferedAmount + data.length` reaches `highWaterMarkBytes` (string length as
 *   a cheap byte estimate), that frame is sent with a write callback and `socket.congested` is reported; the machine
 *   then keeps new messages in its bounded outbox. When that frame's write completes, everything before it has
 *   reached the kernel and `socket.drained` follows. Nothing is refused here: the bound lives in the outbox.
 * - Cleanup (the machine leaving the state that invoked it) removes the listeners and terminates the socket; a
 *   no-op error listener stays, because `terminate()` on a connecting socket emits its error on the next tick.
 *
 * @example
 * ```ts
 * const actor = createActor(transportMachine.provide({ actors: { socket: wsSocket } }), { input });
 * ```
 */
export const wsSocket = fromCallback<AnyEventObject, SocketInput>(({ input, sendBack }) => {
  let stopped = false;
  let closedReported = false;
  let opened = false;
  let congested = false;
  let reliable = false;
  let peerLastReceived = 0;
  let lastError: Error | undefined;
  let pendingAck = 0;
  let ackScheduled = false;
  let batch: string[] | undefined;

  const reportClosed = (code: number, reason: string): void => {
    if (opened) {
      opened = false;
      input.metrics?.connectionClosed();
    }
    if (closedReported || stopped) return;
    closedReported = true;
    flushBatch();
    sendBack(
      lastError === undefined
        ? { type: 'socket.closed', code, reason }
        : { type: 'socket.closed', code, reason, error: lastError },
    );
  };

  const flushBatch = (): void => {
    const frames = batch;
    batch = undefined;
    if (frames !== undefined && !stopped) sendBack({ type: 'socket.messages', frames });
  };

  let ws: WebSocket;
  try {
    ws = new WebSocket(input.url, { headers: input.headers, maxPayload: input.maxPayloadBytes, perMessageDeflate: false });
  } catch (error) {
    // an invalid URL throws synchronously: report a failed attempt rather than failing the machine
    lastError = toError(error);
    queueMicrotask(() => reportClosed(ABNORMAL_CLOSURE, 'invalid url'));
    return () => {
      stopped = true;
    };
  }

  const onFlushed = (error?: Error | null): void => {
    // an error here means the socket is closing, and its 'close' event reports that (Node passes null on success)
    if ((error !== undefined && error !== null) || stopped || !congested) return;
    congested = false;
    sendBack({ type: 'socket.drained' });
  };
  const flushAck = (): void => {
    ackScheduled = false;
    if (!stopped && ws.readyState === WebSocket.OPEN) ws.send(encodeAckFrame(pendingAck));
  };
  const fail = (error: unknown): void => {
    // ws throws synchronously only on misuse (an invalid close code …): end this socket, report it on 'close'
    lastError ??= toError(error);
    ws.terminate();
  };

  const port: SocketPort = {
    send(data) {
      if (stopped || ws.readyState !== WebSocket.OPEN) return;
      if (!congested && ws.bufferedAmount + data.length >= input.highWaterMarkBytes) {
        congested = true;
        ws.send(data, onFlushed);
        sendBack({ type: 'socket.congested', bufferedBytes: ws.bufferedAmount });
      } else {
        ws.send(data);
      }
    },
    ack(seq) {
      if (stopped) return;
      if (seq > pendingAck) pendingAck = seq;
      if (!ackScheduled) {
        ackScheduled = true;
        setImmediate(flushAck);
      }
    },
    ping() {
      if (stopped || ws.readyState !== WebSocket.OPEN) return;
      try {
        ws.ping();
      } catch (error) {
        fail(error);
      }
    },
    close(code, reason) {
      if (stopped) return;
      try {
        if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
        else ws.terminate();
      } catch (error) {
        fail(error);
      }
    },
  };

  const onUpgrade = (response: IncomingMessage): void => {
    reliable = isReliableHeader(response.headers[RELIABLE_HEADER]);
    peerLastReceived = reliable ? parseLastReceivedHeader(response.headers[LAST_RECEIVED_HEADER]) : 0;
  };
  const onOpen = (): void => {
    if (stopped) return;
    opened = true;
    input.metrics?.connectionOpened();
    sendBack({ type: 'socket.open', reliable, peerLastReceived, port });
  };
  const onMessage = (data: WebSocket.RawData): void => {
    if (stopped) return;
    // ComputeHorde frames are text; a binary frame is read as UTF-8 and left to the codec to reject
    const text = Buffer.isBuffer(data) ? data.toString() : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString();
    if (batch === undefined) {
      batch = [text];
      queueMicrotask(flushBatch);
    } else {
      batch.push(text);
    }
  };
  const onPong = (): void => {
    if (!stopped) sendBack({ type: 'socket.pong' });
  };
  const onError = (error: Error): void => {
    // ws always follows 'error' with 'close'; keep the first error to report with it
    lastError ??= error;
  };
  const onClose = (code: number, reason: Buffer): void => {
    reportClosed(code, reason.toString());
  };
  ws.on('upgrade', onUpgrade);
  ws.on('open', onOpen);
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('error', onError);
  ws.on('close', onClose);

  return () => {
    if (opened) {
      opened = false;
      input.metrics?.connectionClosed();
    }
    stopped = true;
    batch = undefined;
    ws.off('upgrade', onUpgrade);
    ws.off('open', onOpen);
    ws.off('message', onMessage);
    ws.off('pong', onPong);
    ws.off('error', onError);
    ws.off('close', onClose);
    ws.on('error', noop);
    ws.terminate();
  };
});
