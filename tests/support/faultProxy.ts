import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP fault-injecting proxy on 127.0.0.1 for tests (a small toxiproxy: the real one is a Go binary). Clients
 * connect to `proxy.port`; each connection is piped to the target, through whatever faults are switched on:
 *
 * - `latency(ms, jitterMs)`: each chunk is delayed by `ms ± jitterMs` (order preserved);
 * - `blackhole(true)`: data and FINs are silently discarded in both directions, connections stay up (a partition);
 * - `reset()`: every open connection is reset (RST to both ends);
 * - `refuse(true)`: the listener closes, so new connections get ECONNREFUSED; `refuse(false)` listens again;
 * - `slice(bytes, delayMs)`: data is split into `bytes`-sized pieces `delayMs` apart;
 * - `bandwidth(bytesPerSecond)`: data is paced to that rate.
 *
 * `heal()` switches every fault off; `close()` destroys every connection, clears every timer, and closes the
 * listener (so jest can exit).
 *
 * @example
 * ```ts
 * const proxy = await FaultProxy.start({ targetPort: server.port });
 * const transport = createTransport({ url: `ws://127.0.0.1:${proxy.port}/`, codec });
 * proxy.blackhole(true);   // the heartbeat should notice
 * await proxy.close();
 * ```
 */
export class FaultProxy {
  private latencyMs = 0;
  private jitterMs = 0;
  private blackholed = false;
  private sliceBytes = 0;
  private sliceDelayMs = 0;
  private bytesPerSecond = 0;
  private refusing = false;
  private closed = false;
  private readonly pipes = new Set<Pipe>();
  private readonly connections = new Set<Socket>();
  private readonly clients = new Set<Socket>();
  private server: Server;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    /** The port clients connect to (fixed after start, also across refuse/listen). */
    public port: number,
    private readonly random: () => number,
  ) {
    this.server = this.createListener();
  }

  /** Starts a proxy to `targetHost:targetPort` on 127.0.0.1 (`listenPort` 0: any free port; `random` for jitter). */
  static async start(options: {
    targetPort: number;
    targetHost?: string;
    listenPort?: number;
    random?: () => number;
  }): Promise<FaultProxy> {
    const proxy = new FaultProxy(
      options.targetHost ?? '127.0.0.1',
      options.targetPort,
      options.listenPort ?? 0,
      options.random ?? Math.random,
    );
    await proxy.listen();
    return proxy;
  }

  /** Client connections still open on the client side (a partition may keep their upstream half open). */
  get connectionCount(): number {
    return this.clients.size;
  }

  latency(ms: number, jitterMs = 0): void {
    this.latencyMs = ms;
    this.jitterMs = jitterMs;
  }

  blackhole(on = true): void {
    this.blackholed = on;
  }

  slice(bytes: number, delayMs: number): void {
    this.sliceBytes = bytes;
    this.sliceDelayMs = delayMs;
  }

  bandwidth(bytesPerSecond: number): void {
    this.bytesPerSecond = bytesPerSecond;
  }

  async refuse(on = true): Promise<void> {
    if (on === this.refusing) return;
    this.refusing = on;
    if (on) {
      // close() stops listening at once; its callback would wait for the kept connections, so it is not awaited
      this.server.close();
    } else {
      this.server = this.createListener();
      await this.listen();
    }
  }

  /** Resets (RST) every open connection, both ends. */
  reset(): void {
    for (const socket of this.connections) socket.resetAndDestroy();
  }

  /** Switches every fault off (listening again if refusing). */
  async heal(): Promise<void> {
    this.latency(0);
    this.blackhole(false);
    this.slice(0, 0);
    this.bandwidth(0);
    await this.refuse(false);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pipe of this.pipes) pipe.dispose();
    for (const socket of this.connections) socket.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private createListener(): Server {
    return createServer((client) => this.accept(client));
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    if (this.closed) return void client.destroy();
    const upstream = connect(this.targetPort, this.targetHost);
    const track = (socket: Socket) => {
      this.connections.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined); // a reset or refused end: its 'close' cleans up
      socket.on('close', () => {
        this.connections.delete(socket);
        // a partition hides the close from the other end, like a lost FIN
        if (!this.blackholed) (socket === client ? upstream : client).destroy();
      });
    };
    track(client);
    track(upstream);
    this.clients.add(client);
    client.once('close', () => this.clients.delete(client));
    const pipes = [new Pipe(this, client, upstream), new Pipe(this, upstream, client)];
    for (const pipe of pipes) this.pipes.add(pipe);
    let open = 2;
    const release = () => {
      if (--open > 0) return;
      for (const pipe of pipes) {
        pipe.dispose();
        this.pipes.delete(pipe);
      }
    };
    client.once('close', release);
    upstream.once('close', release);
  }

  /** @internal */
  schedule(chunk: Buffer, now: number, previousAt: number): { at: number; data: Buffer }[] {
    const jitter = this.jitterMs === 0 ? 0 : (this.random() * 2 - 1) * this.jitterMs;
    let at = Math.max(previousAt, now + Math.max(0, this.latencyMs + jitter));
    const pieceBytes = this.sliceBytes > 0 ? this.sliceBytes : chunk.length;
    const out: { at: number; data: Buffer }[] = [];
    for (let offset = 0; offset < chunk.length; offset += pieceBytes) {
      const data = chunk.subarray(offset, offset + pieceBytes);
      if (this.bytesPerSecond > 0) at += (data.length / this.bytesPerSecond) * 1000;
      out.push({ at, data });
      if (this.sliceBytes > 0) at += this.sliceDelayMs;
    }
    return out;
  }

  /** @internal */
  get isBlackholed(): boolean {
    return this.blackholed;
  }

  /** @internal */
  get isShaping(): boolean {
    return this.latencyMs > 0 || this.jitterMs > 0 || this.sliceBytes > 0 || this.bytesPerSecond > 0;
  }
}

/** One direction of one connection: forwards chunks in order, each at its scheduled time. */
class Pipe {
  private readonly queue: { at: number; data: Buffer }[] = [];
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly proxy: FaultProxy,
    private readonly from: Socket,
    private readonly to: Socket,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
    from.on('end', () => {
      this.ended = true;
      this.flushEnd();
    });
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private onData(chunk: Buffer): void {
    if (this.proxy.isBlackholed) return;
    if (!this.proxy.isShaping && this.queue.length === 0) {
      if (!this.to.destroyed) this.to.write(chunk);
      return;
    }
    const now = Date.now();
    for (const item of this.proxy.schedule(chunk, now, this.lastAt)) {
      this.queue.push(item);
      this.lastAt = item.at;
    }
    this.pump();
  }

  private pump(): void {
    if (this.timer !== undefined) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const item = this.queue.shift()!;
      if (!this.to.destroyed && !this.proxy.isBlackholed) this.to.write(item.data);
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.queue[0]!.at - now);
    } else {
      this.flushEnd();
    }
  }

  private flushEnd(): void {
    if (this.ended && this.queue.length === 0 && !this.proxy.isBlackholed && !this.to.destroyed) this.to.end();
  }
}
