import { fromCallback, type AnyEventObject } from 'xstate';
import type { SocketEvent, SocketInput, SocketPort } from '../../src/transport/socket';
import type { FrameCodec } from '../../src/protocol/codec.types';
import { ok, err } from '../../src/util/result';

/** One fake socket started by the transport machine; the test plays the network through it. */
export interface FakeSocket {
  readonly input: SocketInput;
  /** Frames the machine sent on this socket, in order. */
  readonly sent: string[];
  /** Cumulative acks the machine asked for (reliable mode), in order. */
  readonly acks: number[];
  pings: number;
  /** Close requests (code, reason) the machine made. */
  readonly closeRequests: { code: number; reason: string }[];
  /** True once the machine stopped (disposed) this socket actor. */
  stopped: boolean;
  /** Whether the socket is "open" from the machine's point of view. */
  isOpen: boolean;
  open(opts?: { reliable?: boolean; peerLastReceived?: number }): void;
  receive(...frames: string[]): void;
  pong(): void;
  /** The socket closes (peer close, network loss, refused). */
  close(code?: number, reason?: string, error?: Error): void;
  congest(): void;
  drain(): void;
}

/** A socket actor factory for `transportMachine.provide({ actors: { socket: fake.logic } })`. */
export function fakeSockets() {
  const sockets: FakeSocket[] = [];
  const logic = fromCallback<AnyEventObject, SocketInput>(({ input, sendBack }) => {
    const report = (event: SocketEvent): void => {
      if (!socket.stopped) sendBack(event);
    };
    const port: SocketPort = {
      send: (data) => {
        if (!socket.stopped && socket.isOpen) socket.sent.push(data);
      },
      ack: (seq) => {
        if (!socket.stopped) socket.acks.push(seq);
      },
      ping: () => {
        if (!socket.stopped) socket.pings++;
      },
      close: (code, reason) => {
        if (!socket.stopped) socket.closeRequests.push({ code, reason });
      },
    };
    const socket: FakeSocket = {
      input,
      sent: [],
      acks: [],
      pings: 0,
      closeRequests: [],
      stopped: false,
      isOpen: false,
      open: ({ reliable = false, peerLastReceived = 0 } = {}) => {
        socket.isOpen = true;
        report({ type: 'socket.open', reliable, peerLastReceived, port });
      },
      receive: (...frames) => report({ type: 'socket.messages', frames }),
      pong: () => report({ type: 'socket.pong' }),
      close: (code = 1006, reason = '', error) => {
        socket.isOpen = false;
        report(error === undefined ? { type: 'socket.closed', code, reason } : { type: 'socket.closed', code, reason, error });
      },
      congest: () => report({ type: 'socket.congested', bufferedBytes: 1 }),
      drain: () => report({ type: 'socket.drained' }),
    };
    sockets.push(socket);
    return () => {
      socket.stopped = true;
      socket.isOpen = false;
    };
  });
  return {
    logic,
    sockets,
    /** The most recently started socket. */
    get current(): FakeSocket {
      const last = sockets[sockets.length - 1];
      if (last === undefined) throw new Error('no socket started yet');
      return last;
    },
  };
}

/** Test messages: `{ n: number }` as JSON; anything else is a decode error. */
export interface TestMessage {
  n: number;
}

export const testCodec: FrameCodec<TestMessage, TestMessage> = {
  decode(text) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number') {
        return ok(value as TestMessage);
      }
      return err({ code: 'frame.invalid_field', message: 'n must be a number', path: 'n' });
    } catch {
      return err({ code: 'frame.malformed_json', message: 'not JSON' });
    }
  },
  encode(message) {
    return JSON.stringify(message);
  },
};
