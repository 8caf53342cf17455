/**
 * The private protocol between a connection machine and the callback actor that owns its socket. Not exported from
 * the package: only `connection.machine.ts` and `socket.actor.ts` speak it.
 */
import type { WebSocket } from 'ws';
import type { AcceptorReliableSession } from './reliableSessions';

/** Commands the connection machine sends its socket actor. */
export type SocketCommand =
  | { readonly type: 'socket.send'; readonly text: string }
  | { readonly type: 'socket.ping' }
  | { readonly type: 'socket.close'; readonly code: number; readonly reason: string }
  | { readonly type: 'socket.terminate' };

/** What the socket actor reports back. */
export type SocketEvent =
  /** An application frame (reliable framing already removed). */
  | { readonly type: 'socket.message'; readonly text: string }
  | { readonly type: 'socket.pong' }
  /** ws reported an error; `errorCode` is the table key of closeCodes.ts, `wsCode` what ws said. */
  | { readonly type: 'socket.error'; readonly errorCode: string; readonly wsCode: string; readonly message: string }
  /** A send was refused: the socket's buffer or the reliable window is full (`transport.send_overflow`). */
  | { readonly type: 'socket.overflow' }
  /** Reliable mode: the peer broke the framing (`reliable.invalid_frame`) or skipped a seq (`reliable.gap`). */
  | { readonly type: 'socket.reliable_violation'; readonly errorCode: 'reliable.invalid_frame' | 'reliable.gap' }
  | { readonly type: 'socket.closed'; readonly code: number; readonly reason: string };

/** Reliable mode state handed to the socket actor of one connection. */
export interface SocketReliableInput {
  readonly session: AcceptorReliableSession;
  /** The client's `x-horde-last-received`: what to skip when resending. */
  readonly peerLastReceived: number;
}

/** Input of the socket actor. */
export interface SocketActorInput {
  readonly ws: WebSocket;
  readonly connectionId: string;
  readonly maxBufferedBytes: number;
  readonly reliable: SocketReliableInput | undefined;
}
