/**
 * `startFacilitator`: the facilitator's actor system wired to real effects — one HTTP server carrying the REST API,
 * the validators' WebSocket (`/ws/v0/`), `/metrics`, `/healthz` and `/readyz` — over a SQLite job store.
 *
 * Actor tree (root first):
 * ```
 * facilitatorRoot (supervisor, one_for_one)
 * └── connections                 supervisor the acceptor spawns connections under (temporary children)
 *     └── facilitator-<n>         connection actor per validator socket
 *         └── role: facilitatorSession   auth, heartbeats, status updates, eviction timer
 *             └── membership     joins the validator's channel group while authenticated (redelivery on join)
 * ```
 * The job store, the channel registry and the SSE fan-out are plain synchronous objects owned by the event loop
 * (single writer): REST handlers and sessions call them directly.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import { createActor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { createRouter, type PathHandler } from '../../http/router';
import { createFacilitatorSessionMachine, FACILITATOR_CLOSE_UNKNOWN_VALIDATOR } from '../../machines/facilitatorSession.machine';
import type { MetagraphProvider } from '../../metagraph/types';
import { duplexCodec, facilitatorToValidatorCodec, createValidatorToFacilitatorCodec } from '../../protocol';
import { FACILITATOR_API_PATHS } from '../../sdk/facilitatorApi';
import { LEAF_SUPERVISOR_PERIOD_MS, rootSupervisorPolicy } from '../../supervisors/defaults';
import type { SupervisorPolicy } from '../../supervisors/policy';
import { watchRootFailure } from '../../supervisors/rootFailure';
import { supervisorMachine } from '../../supervisors/supervisor.machine';
import { healthRoutes } from '../../telemetry/health';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { createAcceptor, type Acceptor, type ConnectionBehaviour } from '../../transport/acceptor';
import { systemClock, type Clock } from '../../util/clock';
import { createRestAuth } from './auth';
import {
  FACILITATOR_DEFAULT_HOST,
  FACILITATOR_DEFAULT_PORT,
  JOB_DB_FILE,
  JWT_SECRET_BYTES,
  JWT_SECRET_FILE,
  MAX_VALIDATOR_CONNECTIONS,
  SHUTDOWN_GRACE_MS,
  VALIDATOR_AUTH_DEADLINE_MS,
  VALIDATOR_EVICTION_MS,
  VALIDATOR_FRESHNESS_MS,
  VALIDATOR_MAX_MESSAGE_BYTES,
} from './defaults';
import { FacilitatorConfigError } from './errors';
import { JobEvents } from './jobEvents';
import { JobStore } from './jobStore';
import { createFacilitatorMetrics, type FacilitatorMetrics } from './metrics';
import { createRestApi } from './rest';
import { createSessionServices, ValidatorChannels } from './validatorSession';

/** Durations of a facilitator; each defaults to the constant of the same meaning in `defaults.ts`. */
export interface FacilitatorTimings {
  readonly freshnessMs: number;
  readonly evictionMs: number;
  readonly authDeadlineMs: number;
}

export interface FacilitatorOptions {
  /** @default FACILITATOR_DEFAULT_HOST */
  readonly host?: string;
  /** 0 picks a free port. @default FACILITATOR_DEFAULT_PORT */
  readonly port?: number;
  /** Holds `facilitator.sqlite` and (unless `jwtSecret` is given) the generated `jwt-secret`. Created if missing. */
  readonly dataDir: string;
  /** Which validators exist and are active. Not closed by the facilitator. */
  readonly metagraph: MetagraphProvider;
  /** Hotkeys allowed to use the REST API. */
  readonly whitelist: readonly string[];
  /** Secret of REST tokens and nonces. @default read from (or generated into) `<dataDir>/jwt-secret` */
  readonly jwtSecret?: string;
  readonly timings?: Partial<FacilitatorTimings>;
  /** Wall clock (freshness, status times, tokens). */
  readonly clock?: Clock;
  /** @default randomUUID */
  readonly newUuid?: () => string;
  readonly logger?: Logger;
  /** Meter for the facilitator's and the acceptor's instruments (the global Horde meter by default). */
  readonly meter?: Meter;
  /** Mounted at `/metrics` (the telemetry handle's `metricsHandler`). */
  readonly metricsHandler?: PathHandler;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called if the root actor fails (the process should exit). */
  readonly onFatal?: (error: unknown) => void;
}

/** A running facilitator. */
export interface FacilitatorHandle {
  readonly port: number;
  /** `http://host:port` (REST). */
  readonly url: string;
  /** `ws://host:port/ws/v0/` (validators). */
  readonly wsUrl: string;
  readonly root: AnyActorRef;
  readonly store: JobStore;
  readonly channels: ValidatorChannels;
  readonly acceptor: Acceptor;
  readonly metrics: FacilitatorMetrics;
  /** Ends SSE streams, closes validator connections (1001), stops every actor, the store and the server. Idempotent. */
  stop(): Promise<void>;
}

const CONNECTION_POLICY = (): SupervisorPolicy => ({
  strategy: 'one_for_one',
  intensity: 0,
  periodMs: LEAF_SUPERVISOR_PERIOD_MS,
  // Temporary children are never restarted; a failed one must not take its siblings down.
  decider: () => 'stop',
});

/** The secret given, or the one kept in the data dir (generated on first start, mode 0600). */
export function resolveJwtSecret(dataDir: string, given?: string): string {
  if (given !== undefined) {
    if (given.length < 16) throw new FacilitatorConfigError(['the JWT secret must be at least 16 characters']);
    return given;
  }
  const path = join(dataDir, JWT_SECRET_FILE);
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing.length >= 16) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(JWT_SECRET_BYTES).toString('hex');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function whenDone(actor: AnyActorRef): Promise<void> {
  if ((actor.getSnapshot() as { status: string }).status !== 'active') return Promise.resolve();
  return new Promise((resolve) => {
    const subscription = actor.subscribe({
      complete: () => {
        subscription.unsubscribe();
        resolve();
      },
      error: () => {
        subscription.unsubscribe();
        resolve();
      },
    });
  });
}

/**
 * Starts a facilitator. Call `setupTelemetry()` BEFORE this (instruments made earlier stay no-op).
 *
 * @example
 * ```ts
 * const facilitator = await startFacilitator({ port: 0, dataDir: 'data', metagraph, whitelist: [user.ss58] });
 * // validators dial facilitator.wsUrl; the SDK talks to facilitator.url
 * process.once('SIGTERM', () => void facilitator.stop());
 * ```
 */
export async function startFacilitator(options: FacilitatorOptions): Promise<FacilitatorHandle> {
  const timings: FacilitatorTimings = {
    freshnessMs: VALIDATOR_FRESHNESS_MS,
    evictionMs: VALIDATOR_EVICTION_MS,
    authDeadlineMs: VALIDATOR_AUTH_DEADLINE_MS,
    ...options.timings,
  };
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = createFacilitatorMetrics(options.meter);
  mkdirSync(options.dataDir, { recursive: true });
  const secret = resolveJwtSecret(options.dataDir, options.jwtSecret);
  const store = JobStore.open({ path: join(options.dataDir, JOB_DB_FILE), clock });
  const channels = new ValidatorChannels(clock);
  const events = new JobEvents((error) => logger.error('job event listener failed', { error: (error as Error).message }));
  const auth = createRestAuth({ secret, clock, whitelist: new Set(options.whitelist) });
  const rest = createRestApi({ store, channels, events, auth, metrics, logger, clock, newUuid: options.newUuid ?? randomUUID, freshnessMs: timings.freshnessMs });

  let stopped = false;
  const actors: { root?: AnyActorRef } = {};
  const router = createRouter()
    .use(rest.route)
    .use(
      healthRoutes(() => actors.root, {
        readiness: (snapshot) => (stopped ? { ready: false, reason: 'facilitator is stopping' } : { ready: snapshot.value === 'running' }),
      }),
    );
  if (options.metricsHandler !== undefined) router.get('/metrics', options.metricsHandler);
  const server: Server = createServer(router.handler);
  const host = options.host ?? FACILITATOR_DEFAULT_HOST;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? FACILITATOR_DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  const root = createActor(supervisorMachine, {
    input: {
      policy: rootSupervisorPolicy('one_for_one'),
      clock,
      name: 'facilitatorRoot',
      children: [
        {
          id: 'connections',
          systemId: 'facilitator.connections',
          logic: supervisorMachine,
          input: { policy: CONNECTION_POLICY(), clock, name: 'connections', maxChildren: MAX_VALIDATOR_CONNECTIONS },
          restart: 'permanent',
          shutdownMs: 10_000,
        },
      ],
    },
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });
  watchRootFailure(root, { role: 'facilitator', logger, onFatal: options.onFatal });
  root.start();
  actors.root = root;

  const services = createSessionServices({ store, channels, events, metagraph: options.metagraph, metrics, logger, clock, evictAfterMs: timings.evictionMs });
  const acceptor = createAcceptor({
    server,
    supervisor: root.system.get('facilitator.connections') as AnyActorRef,
    clock,
    ...(options.meter === undefined ? {} : { meter: options.meter }),
    routes: [
      {
        name: 'facilitator',
        path: FACILITATOR_API_PATHS.validatorWebSocket,
        codec: duplexCodec(createValidatorToFacilitatorCodec({ maxFrameBytes: VALIDATOR_MAX_MESSAGE_BYTES }), facilitatorToValidatorCodec),
        // The session machine also lists the events it raises itself; the acceptor only ever sends role events.
        behaviour: createFacilitatorSessionMachine(services) as unknown as ConnectionBehaviour,
        authDeadlineMs: timings.authDeadlineMs,
        maxPayloadBytes: VALIDATOR_MAX_MESSAGE_BYTES,
      },
    ],
  });

  // A validator that leaves the metagraph (or turns inactive) loses its connections (upstream: validator.disconnect).
  const unsubscribeMetagraph = options.metagraph.subscribe(() => {
    for (const hotkey of channels.validators()) {
      if (options.metagraph.validator(hotkey)?.active === true) continue;
      const closed = channels.close(hotkey, FACILITATOR_CLOSE_UNKNOWN_VALIDATOR, 'validator deregistered');
      metrics.sessions.add(closed, { outcome: 'deregistered' });
      logger.info('validator deregistered: connections closed', { validator: hotkey, connections: closed });
    }
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true;
      unsubscribeMetagraph();
      rest.closeStreams();
      await acceptor.close({ graceMs: SHUTDOWN_GRACE_MS, reason: 'facilitator shutting down' });
      root.send({ type: 'supervisor.shutdown' });
      await whenDone(root);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
      logger.info('facilitator stopped');
    })();
    return stopping;
  };

  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const base = `${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.info('facilitator listening', { host, port, whitelist: options.whitelist.length });
  return {
    port,
    url: `http://${base}`,
    wsUrl: `ws://${base}${FACILITATOR_API_PATHS.validatorWebSocket}`,
    root,
    store,
    channels,
    acceptor,
    metrics,
    stop,
  };
}
