import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  encodeAckFrame,
  encodeDataFrame,
  isReliableHeader,
  LAST_RECEIVED_HEADER,
  parseLastReceivedHeader,
  parseReliableFrame,
  RELIABLE_HEADER,
  ReliableReceiver,
  ReliableSender,
  SESSION_HEADER,
} from '../../src/transport/reliable';

interface Session {
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;
  socket: WebSocket | undefined;
}

/**
 * A real `ws` server on 127.0.0.1 for transport integration tests, standing in for the acceptor (built in
 * parallel). It speaks reliable mode when `reliable` is on (sessions survive `kill()`/`start()`, as a server with
 * durable session state would), and plain frames otherwise (an upstream Python peer). `kill()` drops every socket
 * without a close frame and stops listening; `start()` listens again on the same port.
 *
 * @example
 * ```ts
 * const server = await TransportTestServer.start({ reliable: true });
 * // … transport connects to server.url …
 * await server.kill(); await server.start();
 * expect(server.received).toEqual([...]);
 * await server.close();
 * ```
 */
export class TransportTestServer {
  /** Texts delivered to the application, in order (reliable: once each; plain: as received). */
  readonly received: string[] = [];
  /** Upgrade request headers of every accepted connection. */
  readonly upgrades: IncomingMessage['headers'][] = [];
  /** Connections accepted so far. */
  connections = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly plainSockets = new Set<WebSocket>();
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private listeners: ((text: string) => void)[] = [];

  private constructor(
    readonly reliable: boolean,
    public port: number,
  ) {}

  static async start(options: { reliable?: boolean; port?: number } = {}): Promise<TransportTestServer> {
    const server = new TransportTestServer(options.reliable ?? false, options.port ?? 0);
    await server.start();
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/link`;
  }

  /** Calls `listener` with each delivered text. */
  onText(listener: (text: string) => void): void {
    this.listeners.push(listener);
  }

  /** Sends `text` to every connected client (reliable: numbered, kept until acked, resent after reconnects). */
  send(text: string): void {
    for (const session of this.sessions.values()) {
      const pushed = session.sender.push(text);
      if ('seq' in pushed && session.socket?.readyState === 1) session.socket.send(encodeDataFrame(pushed.seq, text));
    }
    for (const socket of this.plainSockets) socket.send(text);
  }

  /** Stops reading from every connected socket (a stalled peer: TCP backpressure builds up in the client). */
  pauseReading(): void {
    for (const socket of this.allSockets()) socket.pause();
  }

  resumeReading(): void {
    for (const socket of this.allSockets()) socket.resume();
  }

  private allSockets(): WebSocket[] {
    const sockets = [...this.plainSockets];
    for (const session of this.sessions.values()) if (session.socket !== undefined) sockets.push(session.socket);
    return sockets;
  }

  /** Listens (again) on the same port. */
  async start(): Promise<void> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    const sessionOfRequest = new WeakMap<IncomingMessage, Session>();
    wss.on('headers', (headers: string[], request: IncomingMessage) => {
      const session = sessionOfRequest.get(request);
      if (session !== undefined) {
        headers.push(`${RELIABLE_HEADER}: 1`, `${LAST_RECEIVED_HEADER}: ${session.receiver.lastDelivered}`);
      }
    });
    http.on('upgrade', (request: IncomingMessage, socket, head) => {
      const session = this.reliable ? this.sessionOf(request) : undefined;
      if (session !== undefined) sessionOfRequest.set(request, session);
      wss.handleUpgrade(request, socket, head, (ws) => {
        this.upgrades.push(request.headers);
        this.connections++;
        if (session === undefined) this.acceptPlain(ws);
        else this.acceptReliable(ws, session, parseLastReceivedHeader(request.headers[LAST_RECEIVED_HEADER]));
      });
    });
    http.listen(this.port, '127.0.0.1');
    await once(http, 'listening');
    this.port = (http.address() as AddressInfo).port;
    this.http = http;
    this.wss = wss;
  }

  /** A crash: every socket dropped without a close frame, the listener closed. Sessions are kept. */
  async kill(): Promise<void> {
    const { http, wss } = this;
    this.http = undefined;
    this.wss = undefined;
    for (const socket of this.plainSockets) socket.terminate();
    for (const session of this.sessions.values()) session.socket?.terminate();
    if (wss !== undefined) for (const client of wss.clients) client.terminate();
    if (http !== undefined) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  async close(): Promise<void> {
    await this.kill();
    this.listeners = [];
  }

  private deliver(text: string): void {
    this.received.push(text);
    for (const listener of this.listeners) listener(text);
  }

  private sessionOf(request: IncomingMessage): Session | undefined {
    if (!isReliableHeader(request.headers[RELIABLE_HEADER])) return undefined;
    const id = String(request.headers[SESSION_HEADER] ?? '');
    let session = this.sessions.get(id);
    if (session === undefined) {
      session = { sender: new ReliableSender({ capacity: 100_000 }), receiver: new ReliableReceiver(), socket: undefined };
      this.sessions.set(id, session);
    }
    return session;
  }

  private acceptPlain(ws: WebSocket): void {
    this.plainSockets.add(ws);
    ws.on('message', (data: Buffer) => this.deliver(data.toString()));
    ws.on('error', () => undefined);
    ws.on('close', () => this.plainSockets.delete(ws));
  }

  private acceptReliable(ws: WebSocket, session: Session, clientLastReceived: number): void {
    session.socket?.terminate();
    session.socket = ws;
    for (const frame of session.sender.resumeFrom(clientLastReceived)) ws.send(encodeDataFrame(frame.seq, frame.text));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (session.socket === ws) session.socket = undefined;
    });
    ws.on('message', (data: Buffer) => {
      const frame = parseReliableFrame(data.toString());
      if (frame.kind === 'ack') session.sender.ack(frame.seq);
      else if (frame.kind === 'data') {
        const verdict = session.receiver.accept(frame.seq);
        if (verdict === 'deliver') this.deliver(frame.text);
        if (verdict !== 'gap') ws.send(encodeAckFrame(session.receiver.lastDelivered));
      }
    });
  }
}
