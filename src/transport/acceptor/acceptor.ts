import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Meter } from '@opentelemetry/api';
import { WebSocketServer, type WebSocket } from 'ws';
import { createActor, type ActorOptions, type AnyActorLogic, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import type { FrameCodec } from '../../protocol/codec.types';
import { LEAF_SUPERVISOR_PERIOD_MS } from '../../supervisors/defaults';
import { supervisorMachine } from '../../supervisors/supervisor.machine';
import { systemClock, type Clock } from '../../util/clock';
import {
  isReliableHeader,
  LAST_RECEIVED_HEADER,
  parseLastReceivedHeader,
  RELIABLE_HEADER,
  SESSION_HEADER,
} from '../reliable';
import { closeEventFor, CloseCode } from './closeCodes';
import { connectionMachine, type ConnectionInput, type ConnectionRoleLogic, type ConnectionTimings } from './connection.machine';
import { withFastFrames } from './fastFrames';
import type { ConnectionBehaviour, ConnectionShutdownEvent } from './connection.types';
import {
  ACCEPTOR_DEFAULT_AUTH_DEADLINE_MS,
  ACCEPTOR_DEFAULT_CLOSE_TIMEOUT_MS,
  ACCEPTOR_DEFAULT_HEARTBEAT_INTERVAL_MS,
  ACCEPTOR_DEFAULT_MAX_BUFFERED_BYTES,
  ACCEPTOR_DEFAULT_MAX_PAYLOAD_BYTES,
  ACCEPTOR_DEFAULT_PONG_TIMEOUT_MS,
  ACCEPTOR_DEFAULT_RELIABLE_SEND_CAPACITY,
  ACCEPTOR_DEFAULT_RELIABLE_SESSION_CAPACITY,
  ACCEPTOR_DEFAULT_RELIABLE_SESSION_TTL_MS,
  ACCEPTOR_DEFAULT_SHUTDOWN_GRACE_MS,
  ACCEPTOR_DEFAULT_SUPERVISOR_SHUTDOWN_MARGIN_MS,
  ACCEPTOR_DEFAULT_WRITE_COALESCE_MAX_DELAY_MS,
} from './defaults';
import { AcceptorConfigError, AcceptorSupervisorFailedError } from './errors';
import { createAcceptorMetrics, type AcceptorMetrics } from './metrics';
import { ConnectionRegistry } from './registry';
import { ReliableSessionRegistry, type AcceptorReliableSession } from './reliableSessions';
import { compilePattern, findRoute, pathnameOf, patternProblems, type CompiledPattern, type PathParams } from './routes';
import { createWsSocketActor } from './socket.actor';
import { WriteCoalescer } from './writeCoalescer';
import type { SocketActorInput, SocketReliableInput } from './socket.types';

/** A route's answer to an upgrade request, before the 101. */
export type UpgradeVerdict =
  | { readonly accept: true }
  | { readonly accept: false; readonly status: 401 | 403 | 404 | 429 | 503; readonly reason: string };

/**
 * Checks an upgrade before it completes (e.g. the miner refusing an unknown executor token with 403). It must bound
 * its own IO; `signal` aborts when the socket goes away or the acceptor closes, and a late verdict is ignored.
 */
export type VerifyUpgrade = (
  req: IncomingMessage,
  params: PathParams,
  signal: AbortSignal,
) => UpgradeVerdict | Promise<UpgradeVerdict>;

/** One WebSocket endpoint of a role. */
export interface RouteSpec<In = unknown, Out = unknown> {
  /** Metric label and connection id prefix (`validator`, `executor`, `facilitator`). Unique per acceptor. */
  readonly name: string;
  /** Path pattern with `:param` segments, e.g. `/v0.1/validator_interface/:validator_hotkey`. */
  readonly path: string;
  readonly codec: FrameCodec<In, Out>;
  /** The role logic run for each connection of this route. */
  readonly behaviour: ConnectionBehaviour<In, Out>;
  readonly authDeadlineMs?: number;
  /** Largest incoming message; bigger closes the connection with 1009. */
  readonly maxPayloadBytes?: number;
  readonly heartbeatIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  readonly maxBufferedBytes?: number;
  /** Offer reliable mode to clients that ask for it (`x-horde-reliable: 1`). Default true. */
  readonly reliable?: boolean;
  readonly verifyUpgrade?: VerifyUpgrade;
}

/** Options of {@link createAcceptor}. */
export interface AcceptorOptions {
  /** The role's HTTP server; the acceptor handles its `upgrade` events and leaves its HTTP routes alone. */
  readonly server: Server;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly routes: readonly RouteSpec<any, any>[];
  /** Meter for the acceptor's instruments (ignored when `metrics` is given). */
  readonly meter?: Meter;
  readonly metrics?: AcceptorMetrics;
  /** Wall clock: auth durations and reliable-session TTLs. */
  readonly clock?: Clock;
  /** XState clock of the acceptor's own supervisor and its connections' timers (`SimulatedClock` in tests). */
  readonly actorClock?: ActorClock;
  /**
   * Spawn connections under this dynamic supervisor (one accepting `supervisor.start_child`) instead of one the
   * acceptor creates and owns. `close()` then leaves the supervisor running.
   */
  readonly supervisor?: AnyActorRef;
  /** Inspector of the acceptor's own actor system. */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Reliable-mode session registry bounds. */
  readonly reliableSessions?: { readonly capacity?: number; readonly ttlMs?: number; readonly sendCapacity?: number };
  /** Grace `close()` gives when called without one. */
  readonly shutdownGraceMs?: number;
  /**
   * Longest a socket write is held to go out with the other writes of the event-loop turn (`writeCoalescer.ts`);
   * 0 writes each message at once. Default {@link ACCEPTOR_DEFAULT_WRITE_COALESCE_MAX_DELAY_MS}.
   */
  readonly writeCoalesceMaxDelayMs?: number;
  /** Called if the acceptor's own supervisor fails; the acceptor then refuses every upgrade with 503. */
  readonly onFailure?: (error: AcceptorSupervisorFailedError) => void;
}

/**
 * - `accepting`: upgrades are routed and served;
 * - `draining`: `close()` was called; upgrades get 503, open connections are closing with 1001;
 * - `closed`: every socket is gone and the acceptor is detached from the server;
 * - `failed`: the acceptor's supervisor escalated; upgrades get 503 (call `close()` to detach).
 */
export type AcceptorState = 'accepting' | 'draining' | 'closed' | 'failed';

/** Outcome label of `horde_acceptor_connections_total`. */
export type UpgradeOutcome = 'accepted' | 'not_found' | 'refused' | 'unavailable' | 'abandoned' | 'failed';

/** XState's timer clock (`SimulatedClock` in tests). */
type ActorClock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

interface ResolvedRoute {
  readonly spec: RouteSpec;
  readonly compiled: CompiledPattern;
  readonly wss: WebSocketServer;
  readonly machine: typeof connectionMachine;
  readonly timings: ConnectionTimings;
  readonly maxBufferedBytes: number;
  readonly reliable: boolean;
}

interface ReliableNegotiation {
  readonly session: AcceptorReliableSession;
  readonly peerLastReceived: number;
}

const SESSION_ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Answers an upgrade request with a plain HTTP error and closes the socket once the answer is written. */
function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.destroyed || socket.writableEnded) return;
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function positiveProblem(path: string, value: number | undefined): string[] {
  if (value === undefined) return [];
  return Number.isFinite(value) && value > 0 ? [] : [`${path} must be a finite number > 0 (got ${value})`];
}

/** Every problem with the acceptor's options (empty when valid). */
export function acceptorOptionsProblems(options: AcceptorOptions): string[] {
  const problems: string[] = [];
  if (options.routes.length === 0) problems.push('routes must not be empty');
  const names = new Set<string>();
  options.routes.forEach((route, i) => {
    const at = `routes[${i}]`;
    if (!/^[a-z][a-z0-9_]*$/.test(route.name)) problems.push(`${at}.name must match [a-z][a-z0-9_]* (got "${route.name}")`);
    if (names.has(route.name)) problems.push(`${at}.name "${route.name}" is used by another route`);
    names.add(route.name);
    problems.push(...patternProblems(route.path).map((p) => `${at}.path: ${p}`));
    for (const key of [
      'authDeadlineMs',
      'heartbeatIntervalMs',
      'pongTimeoutMs',
      'closeTimeoutMs',
      'maxPayloadBytes',
      'maxBufferedBytes',
    ] as const) {
      problems.push(...positiveProblem(`${at}.${key}`, route[key]));
    }
  });
  problems.push(...positiveProblem('shutdownGraceMs', options.shutdownGraceMs));
  const coalesce = options.writeCoalesceMaxDelayMs;
  if (coalesce !== undefined && !(Number.isFinite(coalesce) && coalesce >= 0)) {
    problems.push(`writeCoalesceMaxDelayMs must be a finite number >= 0 (got ${coalesce})`);
  }
  const sessions = options.reliableSessions ?? {};
  problems.push(...positiveProblem('reliableSessions.capacity', sessions.capacity));
  problems.push(...positiveProblem('reliableSessions.ttlMs', sessions.ttlMs));
  if (sessions.sendCapacity !== undefined && !(Number.isInteger(sessions.sendCapacity) && sessions.sendCapacity >= 1)) {
    problems.push(`reliableSessions.sendCapacity must be an integer >= 1 (got ${sessions.sendCapacity})`);
  }
  return problems;
}

/**
 * The server side of every Horde WebSocket link: attached to a role's `http.Server`, it routes upgrades by path,
 * spawns one connection actor per socket under a one_for_one supervisor (children `temporary`: a socket cannot be
 * restarted), keeps a registry of live connections by identity, and shuts down gracefully.
 *
 * Create it with {@link createAcceptor}.
 */
export class Acceptor {
  /** Live connections by id, route and authenticated identity. */
  readonly connections = new ConnectionRegistry();
  /** The dynamic supervisor the connections run under. */
  readonly supervisor: AnyActorRef;
  readonly metrics: AcceptorMetrics;

  private stateValue: AcceptorState = 'accepting';
  private readonly routes: readonly ResolvedRoute[];
  private readonly ownsSupervisor: boolean;
  private readonly clock: Clock;
  private readonly sessions: ReliableSessionRegistry;
  private readonly negotiations = new WeakMap<IncomingMessage, ReliableNegotiation>();
  /** Upgrade requests waiting for `verifyUpgrade`, with the name of their route. */
  private readonly pending = new Map<Duplex, { controller: AbortController; route: string }>();
  /** Every upgraded socket until its `close` event. */
  private readonly sockets = new Set<WebSocket>();
  private readonly socketsGone: Array<() => void> = [];
  private nextConnectionNumber = 0;
  private closing: Promise<void> | undefined;
  /** Socket writes of this acceptor's connections, coalesced per event-loop turn. */
  private readonly writes: WriteCoalescer;

  /** @internal use {@link createAcceptor} */
  constructor(private readonly options: AcceptorOptions) {
    const problems = acceptorOptionsProblems(options);
    if (problems.length > 0) throw new AcceptorConfigError(problems);
    this.metrics = options.metrics ?? createAcceptorMetrics(options.meter);
    this.clock = options.clock ?? systemClock;
    const sessionOptions = options.reliableSessions ?? {};
    this.sessions = new ReliableSessionRegistry({
      capacity: sessionOptions.capacity ?? ACCEPTOR_DEFAULT_RELIABLE_SESSION_CAPACITY,
      ttlMs: sessionOptions.ttlMs ?? ACCEPTOR_DEFAULT_RELIABLE_SESSION_TTL_MS,
      sendCapacity: sessionOptions.sendCapacity ?? ACCEPTOR_DEFAULT_RELIABLE_SEND_CAPACITY,
      clock: this.clock,
      onEvict: (reason) => this.metrics.reliableSessionsEvicted.add(1, { reason }),
    });
    this.writes = new WriteCoalescer({
      maxDelayMs: options.writeCoalesceMaxDelayMs ?? ACCEPTOR_DEFAULT_WRITE_COALESCE_MAX_DELAY_MS,
      // A socket's flush reports its own failures to its connection and does not throw; if one ever does, that bug
      // is counted and shown as a process warning, and the other sockets' writes still go out.
      onError: (error) => {
        this.metrics.socketErrors.add(1, { route: '*', error: 'write_flush_failed' });
        process.emitWarning(error);
      },
    });
    this.routes = options.routes.map((spec) => this.resolveRoute(spec as RouteSpec));

    if (options.supervisor !== undefined) {
      this.supervisor = options.supervisor;
      this.ownsSupervisor = false;
    } else {
      const root = createActor(supervisorMachine, {
        input: {
          // Connections are temporary and never restarted, so restart intensity never applies; the decider makes
          // a failed connection a plain stop, never an escalation that would take every other connection down.
          policy: { strategy: 'one_for_one', intensity: 0, periodMs: LEAF_SUPERVISOR_PERIOD_MS, decider: () => 'stop' },
          clock: this.clock,
          name: 'acceptor',
        },
        // Spread only what is set: an explicit `clock: undefined` would replace XState's default clock.
        ...(options.actorClock === undefined ? {} : { clock: options.actorClock }),
        ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
      });
      root.subscribe({ error: (error) => this.fail(error) });
      root.start();
      this.supervisor = root;
      this.ownsSupervisor = true;
    }
    options.server.on('upgrade', this.onUpgrade);
  }

  get state(): AcceptorState {
    return this.stateValue;
  }

  /** Sockets currently upgraded (including ones whose actor is still closing them). */
  get socketCount(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting (new upgrades get 503), asks every connection to close with 1001 and `reason`, terminates the
   * sockets still open after `graceMs`, and resolves once every socket is gone and the acceptor is detached from the
   * server. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void acceptor.close({ graceMs: 5_000, reason: 'miner restarting' }).then(() => server.close()));
   * ```
   */
  close(options: { graceMs?: number; reason?: string } = {}): Promise<void> {
    this.closing ??= this.drain(options.graceMs ?? this.options.shutdownGraceMs ?? ACCEPTOR_DEFAULT_SHUTDOWN_GRACE_MS, options.reason);
    return this.closing;
  }

  private async drain(graceMs: number, reason: string | undefined): Promise<void> {
    if (this.stateValue === 'accepting') this.stateValue = 'draining';
    for (const [socket, { controller, route }] of this.pending) {
      controller.abort();
      this.count(route, 'unavailable');
      rejectUpgrade(socket, 503, 'server shutting down');
    }
    this.pending.clear();
    const shutdown: ConnectionShutdownEvent = { type: 'connection.shutdown', graceMs, ...(reason ? { reason } : {}) };
    for (const entry of this.connections.all()) entry.connection.send(shutdown);
    await this.allSocketsGone();
    if (this.ownsSupervisor) await this.stopSupervisor();
    this.options.server.off('upgrade', this.onUpgrade);
    await Promise.all(this.routes.map((route) => new Promise<void>((resolve) => route.wss.close(() => resolve()))));
    if (this.stateValue !== 'failed') this.stateValue = 'closed';
  }

  private allSocketsGone(): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.socketsGone.push(resolve));
  }

  private stopSupervisor(): Promise<void> {
    const supervisor = this.supervisor;
    const status = (supervisor.getSnapshot() as { status: string }).status;
    if (status !== 'active') return Promise.resolve();
    return new Promise((resolve) => {
      const subscription = supervisor.subscribe({
        complete: () => {
          subscription.unsubscribe();
          resolve();
        },
        error: () => {
          subscription.unsubscribe();
          resolve();
        },
      });
      supervisor.send({ type: 'supervisor.shutdown' });
    });
  }

  private fail(error: unknown): void {
    const failure = new AcceptorSupervisorFailedError(error);
    this.stateValue = 'failed';
    this.options.onFailure?.(failure);
  }

  private resolveRoute(spec: RouteSpec): ResolvedRoute {
    const timings: ConnectionTimings = {
      authDeadlineMs: spec.authDeadlineMs ?? ACCEPTOR_DEFAULT_AUTH_DEADLINE_MS,
      heartbeatIntervalMs: spec.heartbeatIntervalMs ?? ACCEPTOR_DEFAULT_HEARTBEAT_INTERVAL_MS,
      pongTimeoutMs: spec.pongTimeoutMs ?? ACCEPTOR_DEFAULT_PONG_TIMEOUT_MS,
      closeTimeoutMs: spec.closeTimeoutMs ?? ACCEPTOR_DEFAULT_CLOSE_TIMEOUT_MS,
    };
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: spec.maxPayloadBytes ?? ACCEPTOR_DEFAULT_MAX_PAYLOAD_BYTES,
      // Upstream peers never negotiate compression; leaving it off avoids zlib memory per socket.
      perMessageDeflate: false,
      // Sockets are tracked here; ws's own client set would be a second, unbounded copy.
      clientTracking: false,
    });
    wss.on('headers', (headers: string[], req: IncomingMessage) => {
      const negotiation = this.negotiations.get(req);
      if (negotiation === undefined) return;
      headers.push(`${RELIABLE_HEADER}: 1`, `${LAST_RECEIVED_HEADER}: ${negotiation.session.receiver.lastDelivered}`);
    });
    const socketActor = createWsSocketActor({
      metrics: this.metrics,
      route: spec.name,
      coalescer: this.writes,
      onStop: (input) => {
        if (input.reliable !== undefined) this.sessions.release(input.reliable.session, input.connectionId);
      },
    });
    const machine = withFastFrames(
      connectionMachine.provide({
        actors: {
          socket: socketActor,
          role: spec.behaviour as unknown as ConnectionRoleLogic,
        },
      }),
    );
    return {
      spec,
      compiled: compilePattern(spec.path),
      wss,
      machine,
      timings,
      maxBufferedBytes: spec.maxBufferedBytes ?? ACCEPTOR_DEFAULT_MAX_BUFFERED_BYTES,
      reliable: spec.reliable ?? true,
    };
  }

  private count(route: string, outcome: UpgradeOutcome): void {
    this.metrics.connections.add(1, { route, outcome });
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node's HTTP server removes its own error listener from an upgraded socket; without one, a reset while we
    // verify or answer would crash the process. ws installs its own once it takes the socket over.
    const onRawError = () => socket.destroy();
    socket.on('error', onRawError);

    const pathname = pathnameOf(req.url ?? '/');
    const found = findRoute(this.routes, pathname);
    if (found === undefined) {
      this.count('none', 'not_found');
      rejectUpgrade(socket, 404, 'no such WebSocket route');
      return;
    }
    const { route, params } = found;
    if (this.stateValue !== 'accepting') {
      this.count(route.spec.name, 'unavailable');
      rejectUpgrade(socket, 503, 'server shutting down');
      return;
    }
    const verify = route.spec.verifyUpgrade;
    if (verify === undefined) {
      this.completeUpgrade(route, params, pathname, req, socket, head, onRawError);
      return;
    }
    const name = route.spec.name;
    const controller = new AbortController();
    this.pending.set(socket, { controller, route: name });
    const onGone = () => {
      if (controller.signal.aborted) return;
      controller.abort();
      this.pending.delete(socket);
      this.count(name, 'abandoned');
    };
    socket.once('close', onGone);
    Promise.resolve()
      .then(() => verify(req, params, controller.signal))
      .then(
        (verdict) => {
          socket.off('close', onGone);
          // Aborted: the peer hung up, or close() already answered 503; either way it was counted there.
          if (controller.signal.aborted) return;
          this.pending.delete(socket);
          if (!verdict.accept) {
            this.count(name, 'refused');
            rejectUpgrade(socket, verdict.status, verdict.reason);
          } else if (this.stateValue !== 'accepting') {
            this.count(name, 'unavailable');
            rejectUpgrade(socket, 503, 'server shutting down');
          } else {
            this.completeUpgrade(route, params, pathname, req, socket, head, onRawError);
          }
        },
        () => {
          // A throwing verifier is a bug on our side: the peer gets a 500, the attempt is counted as failed.
          socket.off('close', onGone);
          if (controller.signal.aborted) return;
          this.pending.delete(socket);
          this.count(name, 'failed');
          rejectUpgrade(socket, 500, 'internal error');
        },
      );
  };

  private completeUpgrade(
    route: ResolvedRoute,
    params: PathParams,
    pathname: string,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onRawError: () => void,
  ): void {
    let negotiation: ReliableNegotiation | undefined;
    if (route.reliable && isReliableHeader(req.headers[RELIABLE_HEADER])) {
      const sessionId = firstHeader(req.headers[SESSION_HEADER])?.trim();
      if (sessionId !== undefined && SESSION_ID_PATTERN.test(sessionId)) {
        const session = this.sessions.prepare(`${pathname}|${sessionId}`);
        if (session === undefined) {
          this.count(route.spec.name, 'unavailable');
          rejectUpgrade(socket, 503, 'too many reliable sessions');
          return;
        }
        negotiation = { session, peerLastReceived: parseLastReceivedHeader(req.headers[LAST_RECEIVED_HEADER]) };
        this.negotiations.set(req, negotiation);
      }
    }
    // ws answers malformed handshakes (400) itself and then never calls back; such sockets are never tracked.
    socket.off('error', onRawError);
    route.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(route, params, req, ws, negotiation));
  }

  private onConnection(
    route: ResolvedRoute,
    params: PathParams,
    req: IncomingMessage,
    ws: WebSocket,
    negotiation: ReliableNegotiation | undefined,
  ): void {
    const name = route.spec.name;
    this.sockets.add(ws);
    let actorStopped = false;
    // The socket actor reports errors while it runs; this listener only keeps a late one (after the actor let go)
    // from crashing the process, and still counts it.
    ws.on('error', (error: Error & { code?: string }) => {
      if (actorStopped) this.metrics.socketErrors.add(1, { route: name, error: error.code ?? 'unknown' });
    });
    ws.once('close', () => {
      this.sockets.delete(ws);
      if (this.sockets.size === 0) for (const resolve of this.socketsGone.splice(0)) resolve();
    });
    if (this.stateValue !== 'accepting') {
      // Defensive: the state is checked just before handleUpgrade, which completes synchronously.
      this.count(name, 'unavailable');
      ws.close(CloseCode.goingAway, 'server shutting down');
      return;
    }

    const connectionId = `${name}-${++this.nextConnectionNumber}`;
    const reliable: SocketReliableInput | undefined =
      negotiation === undefined ? undefined : { session: negotiation.session, peerLastReceived: negotiation.peerLastReceived };
    const socket: SocketActorInput = { ws, connectionId, maxBufferedBytes: route.maxBufferedBytes, reliable };
    const input: ConnectionInput = {
      connectionId,
      route: name,
      codec: route.spec.codec,
      timings: route.timings,
      params,
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
      reliable: reliable !== undefined,
      socket,
      metrics: this.metrics,
      registry: this.connections,
      clock: this.clock,
    };
    if (negotiation !== undefined) {
      const superseded = this.sessions.attach(negotiation.session, connectionId);
      if (superseded !== undefined) {
        this.connections.get(superseded)?.connection.send(closeEventFor('reliable.session_superseded'));
      }
    }
    this.supervisor.send({
      type: 'supervisor.start_child',
      spec: {
        id: connectionId,
        logic: route.machine,
        input,
        restart: 'temporary',
        shutdownMs: route.timings.closeTimeoutMs + ACCEPTOR_DEFAULT_SUPERVISOR_SHUTDOWN_MARGIN_MS,
      },
    });
    const child = (this.supervisor.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[
      connectionId
    ];
    if (child === undefined) {
      // The supervisor refused or is gone: nobody would own this socket.
      this.count(name, 'failed');
      actorStopped = true;
      if (negotiation !== undefined) this.sessions.release(negotiation.session, connectionId);
      ws.terminate();
      return;
    }
    this.count(name, 'accepted');
    // Whatever ends the connection actor (done, failed, stopped by force), its socket must not outlive it. An actor
    // stopped by force (the supervisor's shutdown deadline) never reached `closed`, which is where it leaves the
    // registry and the open-connections gauge: do that for it, recorded as a terminated socket.
    const release = () => {
      actorStopped = true;
      if (ws.readyState !== ws.CLOSED) ws.terminate();
      if (this.connections.get(connectionId) !== undefined) {
        this.connections.closed(connectionId);
        this.metrics.openConnections.add(-1, { route: name });
        this.metrics.closes.add(1, { route: name, code: CloseCode.abnormal, initiator: 'server' });
      }
    };
    child.subscribe({ complete: release, error: release });
  }
}

/**
 * Attaches a WebSocket acceptor to a role's HTTP server.
 *
 * @example
 * ```ts
 * const server = http.createServer(httpRoutes);
 * const acceptor = createAcceptor({
 *   server,
 *   routes: [{
 *     name: 'validator',
 *     path: '/v0.1/validator_interface/:validator_hotkey',
 *     codec: validatorToMinerCodec,
 *     behaviour: validatorSessionMachine,   // sends connection.authenticated / connection.close itself
 *     authDeadlineMs: 10_000,
 *   }],
 * });
 * server.listen(8000);
 * for (const c of acceptor.connections.byIdentity(hotkey)) c.connection.send({ type: 'connection.send', message });
 * await acceptor.close({ graceMs: 5_000 });
 * ```
 */
export function createAcceptor(options: AcceptorOptions): Acceptor {
  return new Acceptor(options);
}
