import type { RawData } from 'ws';
import { fromCallback } from 'xstate';
import { toError } from '../../util/errors';
import { encodeAckFrame, encodeDataFrame, parseReliableFrame } from '../reliable';
import { errorCodeForWsError } from './closeCodes';
import type { AcceptorMetrics } from './metrics';
import type { SocketActorInput, SocketCommand, SocketEvent } from './socket.types';
import type { WriteCoalescer } from './writeCoalescer';

/** Effects the socket actor reports that the machine does not need to see (counted only). */
export interface SocketActorHooks {
  readonly metrics: AcceptorMetrics;
  readonly route: string;
  /** Called once, when the actor stops: the acceptor releases the reliable session here. */
  readonly onStop?: (input: SocketActorInput) => void;
  /** Holds writes until the end of the event-loop turn (see `writeCoalescer.ts`); without it each write goes at once. */
  readonly coalescer?: WriteCoalescer;
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function wsCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'unknown';
}

/**
 * The callback actor that owns one accepted `ws` socket: turns its events into {@link SocketEvent}s and the
 * connection's {@link SocketCommand}s into calls, applies reliable-mode framing (dedupe, ack, resend on resume) and
 * bounds the send buffer. Stopping it terminates the socket if it is still open, so no socket outlives its actor.
 *
 * Nothing here throws into XState: ws calls that can throw are guarded and reported as events.
 *
 * @example
 * ```ts
 * const machine = connectionMachine.provide({ actors: { socket: createWsSocketActor({ metrics, route: 'miner' }), role } });
 * ```
 */
export function createWsSocketActor(hooks: SocketActorHooks) {
  return fromCallback<SocketCommand, SocketActorInput>(({ input, sendBack, receive }) => {
    const { ws, reliable } = input;
    const { metrics, route, coalescer } = hooks;
    const report = (event: SocketEvent) => sendBack(event);
    let overflowed = false;
    let closing = false;

    const write = (text: string): void => {
      ws.send(text, (error) => {
        // A failed write means the socket is going away; ws emits 'close' next, which ends the connection.
        if (error) metrics.socketErrors.add(1, { route, error: wsCodeOf(error) });
      });
    };
    // Frames accepted for sending and not yet handed to ws (writes are coalesced per turn, see writeCoalescer.ts).
    // Counted with what ws buffers against maxBufferedBytes; emptied before a close, a terminate or the stop.
    let held: string[] = [];
    let heldChars = 0;
    const flushHeld = (): void => {
      if (held.length === 0) return;
      const texts = held;
      held = [];
      heldChars = 0;
      if (ws.readyState !== ws.OPEN) {
        // The socket closed while they waited for the end of the turn: never sent.
        metrics.droppedMessages.add(texts.length, { route, reason: 'closing' });
        return;
      }
      try {
        for (const text of texts) write(text);
      } catch (error) {
        // ws.send on an open socket reports write failures through its callback; anything thrown here ends the
        // connection like a socket error (the rest of the held frames are lost with it).
        const wsCode = wsCodeOf(error);
        report({ type: 'socket.error', errorCode: errorCodeForWsError(wsCode), wsCode, message: toError(error).message });
      }
    };

    const sendRaw = (text: string): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      if (ws.bufferedAmount + heldChars > input.maxBufferedBytes) {
        if (!overflowed) {
          overflowed = true;
          report({ type: 'socket.overflow' });
        }
        metrics.droppedMessages.add(1, { route, reason: 'send_overflow' });
        return false;
      }
      if (coalescer === undefined || !coalescer.enabled) {
        write(text);
        return true;
      }
      held.push(text);
      heldChars += text.length;
      coalescer.add(flushHeld);
      return true;
    };

    // Binary frames are read as UTF-8 text too: every ComputeHorde frame is JSON text, and the codec refuses garbage.
    const onMessage = (data: RawData) => {
      // Once the connection is closing it ignores incoming frames; in reliable mode they must then be neither
      // accepted nor acked, or the peer would count as delivered what no role ever saw.
      if (closing) return;
      const raw = textOf(data);
      if (reliable === undefined) {
        report({ type: 'socket.message', text: raw });
        return;
      }
      const frame = parseReliableFrame(raw);
      switch (frame.kind) {
        case 'ack':
          reliable.session.sender.ack(frame.seq);
          return;
        case 'data': {
          const verdict = reliable.session.receiver.accept(frame.seq);
          if (verdict === 'deliver') {
            report({ type: 'socket.message', text: frame.text });
            sendRaw(encodeAckFrame(reliable.session.receiver.lastDelivered));
          } else if (verdict === 'duplicate') {
            metrics.reliableFrames.add(1, { route, kind: 'duplicate' });
            sendRaw(encodeAckFrame(reliable.session.receiver.lastDelivered));
          } else {
            metrics.reliableFrames.add(1, { route, kind: 'gap' });
            report({ type: 'socket.reliable_violation', errorCode: 'reliable.gap' });
          }
          return;
        }
        case 'invalid':
          metrics.reliableFrames.add(1, { route, kind: 'invalid' });
          report({ type: 'socket.reliable_violation', errorCode: 'reliable.invalid_frame' });
          return;
        default: {
          const never: never = frame;
          return never;
        }
      }
    };
    const onPong = () => report({ type: 'socket.pong' });
    const onError = (error: Error) => {
      const wsCode = wsCodeOf(error);
      report({ type: 'socket.error', errorCode: errorCodeForWsError(wsCode), wsCode, message: error.message });
    };
    const onClose = (code: number, reason: Buffer) => {
      report({ type: 'socket.closed', code, reason: reason.toString('utf8') });
    };

    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onError);
    ws.on('close', onClose);

    if (reliable !== undefined) {
      // Resend what the peer has not seen, in order, before any new frame (the contract's resume rule).
      for (const frame of reliable.session.sender.resumeFrom(reliable.peerLastReceived)) {
        metrics.reliableFrames.add(1, { route, kind: 'resent' });
        sendRaw(encodeDataFrame(frame.seq, frame.text));
      }
    }
    // The socket may have closed before this actor started listening (a peer that hung up at once).
    if (ws.readyState === ws.CLOSED) report({ type: 'socket.closed', code: 1006, reason: '' });

    receive((command) => {
      switch (command.type) {
        case 'socket.send': {
          if (reliable === undefined) {
            sendRaw(command.text);
            return;
          }
          const pushed = reliable.session.sender.push(command.text);
          if ('dropped' in pushed) {
            metrics.droppedMessages.add(1, { route, reason: 'send_overflow' });
            if (!overflowed) {
              overflowed = true;
              report({ type: 'socket.overflow' });
            }
            return;
          }
          // Unsent frames stay in the sender and go out on the next resume.
          sendRaw(encodeDataFrame(pushed.seq, command.text));
          return;
        }
        case 'socket.ping':
          if (ws.readyState === ws.OPEN) ws.ping();
          return;
        case 'socket.close':
          closing = true;
          // What was sent before the close goes out before the close frame.
          flushHeld();
          if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(command.code, command.reason);
          return;
        case 'socket.terminate':
          closing = true;
          flushHeld();
          ws.terminate();
          return;
        default: {
          const never: never = command;
          return never;
        }
      }
    });

    return () => {
      flushHeld();
      ws.off('message', onMessage);
      ws.off('pong', onPong);
      ws.off('error', onError);
      ws.off('close', onClose);
      if (ws.readyState !== ws.CLOSED) ws.terminate();
      hooks.onStop?.(input);
    };
  });
}
