/**
 * `startValidator`: the validator's parts wired together — durable store, facilitator link, manifest fetcher,
 * router, dispatcher and the jobs supervisor with one organic job actor per job — behind an HTTP server with
 * /metrics, /healthz and /readyz. See docs/validator.md for the actor tree and the status flow.
 *
 * ```
 * validatorRoot (supervisor, one_for_one)
 * └── jobs                  supervisor of the organic job actors (temporary children, bounded)
 *     └── job:<uuid>        one per routed job: dials its miner, reports its statuses, returns its outcome
 * facilitatorLink           transport actor + auth + heartbeat + outbox sender (its own actor system)
 * manifestFetcher           rounds of manifest fetches (its own actor system)
 * ```
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import { createActor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import type { Hotkey } from '../../crypto';
import { createRouter, type PathHandler } from '../../http/router';
import type { MetagraphProvider } from '../../metagraph/types';
import { LEAF_SUPERVISOR_PERIOD_MS, rootSupervisorPolicy } from '../../supervisors/defaults';
import type { SupervisorPolicy } from '../../supervisors/policy';
import { watchRootFailure } from '../../supervisors/rootFailure';
import { supervisorMachine } from '../../supervisors/supervisor.machine';
import { healthRoutes } from '../../telemetry/health';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { systemClock, systemRandom, type Clock, type Random } from '../../util/clock';
import { toError } from '../../util/errors';
import { createMinerAvailability } from './availability';
import type { OrganicJobTimings } from './deadlines';
import { createJobDispatcher, createOutboxSink, supervisedJobLauncher, type JobDispatcher } from './dispatcher';
import { startFacilitatorLink, type FacilitatorLinkHandle } from './facilitatorLink';
import { createBusyTracker, createReliabilityLedger } from './ledger';
import { startManifestFetcher, type ManifestFetcherHandle } from './manifestFetcher';
import { organicJobLogic } from './organicJob';
import { createJobRouter } from './router';
import { DEFAULT_MANIFEST_INTERVAL_MS, DEFAULT_MANIFEST_MAX_AGE_MS } from './routingDefaults';
import { openValidatorStore, type ValidatorStore } from './store';
import type { MinerEndpoint } from './types';
import {
  VALIDATOR_DEFAULT_HOST,
  VALIDATOR_DEFAULT_PORT,
  VALIDATOR_JOB_SHUTDOWN_MS,
  VALIDATOR_MAX_CONCURRENT_JOBS,
  VALIDATOR_OUTBOX_FLUSH_GRACE_MS,
  VALIDATOR_OUTBOX_FLUSH_POLL_MS,
  VALIDATOR_STORE_FILE,
} from './validatorDefaults';
import { createValidatorMetrics, type ValidatorMetrics } from './validatorMetrics';
import { verifyJobRequest } from './verifyJob';

export interface ValidatorOptions {
  readonly hotkey: Hotkey;
  /** `ws://host:port/ws/v0/` of the facilitator. */
  readonly facilitatorUrl: string;
  /** Miners (where to dial them) and validators (stake, for excuses). Not closed by the validator. */
  readonly metagraph: MetagraphProvider;
  /** Folder of the SQLite store (jobs and the outbox of status updates); created if missing. Keep it across restarts. */
  readonly dataDir: string;
  /** @default VALIDATOR_DEFAULT_HOST */
  readonly host?: string;
  /** 0 picks a free port. @default VALIDATOR_DEFAULT_PORT */
  readonly port?: number;
  /** Job signatories accepted besides the validator itself. */
  readonly whitelist?: readonly string[];
  /** Where `on_trusted_miner` jobs go (none: they are rejected `no_miner_for_job`). */
  readonly trustedMiner?: MinerEndpoint;
  /** How often every miner's manifest is fetched. @default the fetcher's default (60 s) */
  readonly manifestIntervalMs?: number;
  /** @default the link's default (60 s) */
  readonly heartbeatIntervalMs?: number;
  /** Offer the transport's reliable mode to the facilitator (negotiated; upstream facilitators ignore it). @default false */
  readonly reliableLink?: boolean;
  /** @default VALIDATOR_MAX_CONCURRENT_JOBS */
  readonly maxConcurrentJobs?: number;
  /** @default VALIDATOR_JOB_SHUTDOWN_MS */
  readonly jobShutdownMs?: number;
  /** Overrides of the organic job timings (reservation, startup, leeway). */
  readonly organicTimings?: Partial<OrganicJobTimings>;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  readonly meter?: Meter;
  /** Mounted at `/metrics` (the telemetry handle's `metricsHandler`). */
  readonly metricsHandler?: PathHandler;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called if the root actor fails (the process should exit). */
  readonly onFatal?: (error: unknown) => void;
}

/** `serving` → `draining` (stop asked) → `stopped`. */
export type ValidatorState = 'serving' | 'draining' | 'stopped';

/** A running validator. */
export interface ValidatorHandle {
  readonly hotkey: string;
  readonly port: number;
  /** `http://host:port` (/metrics, /healthz, /readyz). */
  readonly url: string;
  readonly root: AnyActorRef;
  readonly dispatcher: JobDispatcher;
  readonly metrics: ValidatorMetrics;
  readonly state: ValidatorState;
  /** Authenticated to the facilitator now, and at least one manifest round done: what /readyz says. */
  readonly ready: boolean;
  /** Jobs a previous process left unfinished, ended with `horde_failed` at this start. */
  readonly recoveredJobs: number;
  /** Status updates not yet acknowledged by the facilitator. */
  pendingStatuses(): number;
  /**
   * Stops taking jobs, shuts the running job actors down (each reports `horde_failed`), lets the link send the
   * outbox for up to `graceMs`, then closes everything. What is still unsent stays in SQLite for the next start.
   * Idempotent.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

const JOBS_POLICY = (): SupervisorPolicy => ({
  strategy: 'one_for_one',
  intensity: 0,
  periodMs: LEAF_SUPERVISOR_PERIOD_MS,
  // Job actors are temporary and never restarted; one that fails must not take its siblings down.
  decider: () => 'stop',
});

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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a validator: opens its store, ends the jobs a previous process left unfinished, starts the manifest
 * fetcher, listens (HTTP), then dials the facilitator. Call `setupTelemetry()` BEFORE this (instruments made earlier
 * stay no-op).
 *
 * @example
 * ```ts
 * const validator = await startValidator({ hotkey, facilitatorUrl: 'ws://127.0.0.1:9000/ws/v0/', metagraph,
 *   dataDir: 'data/validator', port: 0 });
 * process.once('SIGTERM', () => void validator.stop({ graceMs: 10_000 }));
 * ```
 */
export async function startValidator(options: ValidatorOptions): Promise<ValidatorHandle> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const logger = options.logger ?? silentLogger;
  const meter = options.meter;
  const metrics = createValidatorMetrics(meter);
  const hotkey = options.hotkey;
  const child = (component: string): Logger => logger.child({}, { component });
  const meterOption = meter === undefined ? {} : { meter };

  mkdirSync(options.dataDir, { recursive: true });
  const store: ValidatorStore = openValidatorStore(join(options.dataDir, VALIDATOR_STORE_FILE), { clock, ...meterOption });
  const parts: { link?: FacilitatorLinkHandle } = {};
  const busy = createBusyTracker();
  const sink = createOutboxSink({
    writer: store,
    kick: () => parts.link?.kick(),
    onTerminal: (uuid) => busy.end(uuid),
    logger: child('validator.outbox'),
    metrics,
  });

  const ledger = createReliabilityLedger();
  const availability = createMinerAvailability({ logger: child('validator.availability') });
  const fetcher: ManifestFetcherHandle = startManifestFetcher({
    validator: hotkey,
    metagraph: options.metagraph,
    availability,
    ...(options.manifestIntervalMs === undefined ? {} : { intervalMs: options.manifestIntervalMs }),
    clock,
    random,
    logger: child('validator.manifests'),
    ...meterOption,
  });
  const router = createJobRouter({
    metagraph: options.metagraph,
    manifests: fetcher,
    busy,
    ledger,
    availability,
    random,
    ...(options.trustedMiner === undefined ? {} : { trustedMiner: options.trustedMiner }),
    // A manifest must outlive the gap between two rounds, or a long --manifest-interval-ms would make every miner
    // stale between rounds and no job could be routed.
    manifestMaxAgeMs: Math.max(DEFAULT_MANIFEST_MAX_AGE_MS, 3 * (options.manifestIntervalMs ?? DEFAULT_MANIFEST_INTERVAL_MS)),
    logger: child('validator.router'),
    ...meterOption,
  });

  const jobShutdownMs = options.jobShutdownMs ?? VALIDATOR_JOB_SHUTDOWN_MS;
  const maxConcurrentJobs = options.maxConcurrentJobs ?? VALIDATOR_MAX_CONCURRENT_JOBS;
  const root = createActor(supervisorMachine, {
    input: {
      policy: rootSupervisorPolicy('one_for_one'),
      clock,
      name: 'validatorRoot',
      children: [
        {
          id: 'jobs',
          systemId: 'validator.jobs',
          logic: supervisorMachine,
          // Room above the dispatcher's own bound, so the supervisor never refuses a job the dispatcher took.
          input: { policy: JOBS_POLICY(), clock, name: 'jobs', maxChildren: maxConcurrentJobs + 1 },
          restart: 'permanent',
          shutdownMs: jobShutdownMs * 2 + 1_000,
        },
      ],
    },
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });
  watchRootFailure(root, { role: 'validator', logger, onFatal: options.onFatal });
  root.start();
  const jobsRef = root.system.get('validator.jobs') as AnyActorRef;

  const logic = organicJobLogic({
    validator: hotkey,
    sink,
    manifests: fetcher,
    metagraph: options.metagraph,
    clock,
    logger: child('validator.job'),
    ...meterOption,
    ...(options.organicTimings === undefined ? {} : { timings: options.organicTimings }),
  });
  const launcher = supervisedJobLauncher({ supervisor: jobsRef, logic, shutdownMs: jobShutdownMs });
  const dispatcher = createJobDispatcher({
    validatorHotkey: hotkey.ss58,
    whitelist: new Set(options.whitelist ?? []),
    store,
    sink,
    verify: verifyJobRequest,
    router,
    launcher,
    ledger,
    availability,
    busy,
    maxConcurrentJobs,
    clock,
    logger: child('validator.dispatcher'),
    metrics,
  });
  const recoveredJobs = dispatcher.recoverUnfinished();

  let state: ValidatorState = 'serving';
  let authenticated = false;
  const readiness = (): { ready: boolean; reason?: string } => {
    if (state !== 'serving') return { ready: false, reason: `validator is ${state}` };
    if (!authenticated || parts.link?.connected !== true) return { ready: false, reason: 'not authenticated to the facilitator' };
    if (fetcher.lastReport === undefined) return { ready: false, reason: 'no manifest round done yet' };
    return { ready: true };
  };
  const http = createRouter().use(healthRoutes(root, { readiness: () => readiness() }));
  if (options.metricsHandler !== undefined) http.get('/metrics', options.metricsHandler);
  const server: Server = createServer(http.handler);
  const host = options.host ?? VALIDATOR_DEFAULT_HOST;

  const closeParts = async (): Promise<void> => {
    launcher.close();
    root.send({ type: 'supervisor.shutdown' });
    await whenDone(root);
    await fetcher.stop();
    store.close();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? VALIDATOR_DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await closeParts();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  const link = startFacilitatorLink({
    url: options.facilitatorUrl,
    validator: hotkey,
    store,
    onJob: (request) => dispatcher.handleJob(request),
    onCheated: (message) => dispatcher.handleCheated(message),
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    ...(options.reliableLink === undefined ? {} : { reliable: options.reliableLink }),
    clock,
    random,
    logger: child('validator.link'),
    ...meterOption,
  });
  parts.link = link;
  // The outbox may hold rows from before a restart (and the recovery's): wake the sender.
  link.kick();
  link.whenAuthenticated().then(
    () => {
      authenticated = true;
      logger.info('authenticated to the facilitator', { url: options.facilitatorUrl });
    },
    (error: unknown) =>
      logger.log(state === 'serving' ? 'warn' : 'debug', 'facilitator authentication never completed', {
        error: toError(error).message,
      }),
  );

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      const graceMs = stopOptions.graceMs ?? VALIDATOR_OUTBOX_FLUSH_GRACE_MS;
      state = 'draining';
      dispatcher.close();
      const running = dispatcher.running;
      logger.info('stopping: no new jobs; shutting the running jobs down', { running, graceMs });
      // Asked all at once: the supervisor's own shutdown stops children one at a time.
      const children = (jobsRef.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children ?? {};
      for (const ref of Object.values(children)) ref?.send({ type: 'supervisor.shutdown' });
      if (!(await withTimeout(dispatcher.whenIdle(), jobShutdownMs + 1_000))) {
        logger.warn('jobs still running after their shutdown time; stopping them by force', { running: dispatcher.running });
      }
      launcher.close();
      root.send({ type: 'supervisor.shutdown' });
      await whenDone(root);
      await withTimeout(dispatcher.whenIdle(), 1_000);
      const deadlineMs = clock.nowMs() + graceMs;
      while (store.pendingCount() > 0 && clock.nowMs() < deadlineMs) await delay(VALIDATOR_OUTBOX_FLUSH_POLL_MS);
      const left = store.pendingCount();
      if (left > 0) logger.warn('outbox not fully sent; the rest goes after the next start', { pending: left });
      await link.stop();
      await fetcher.stop();
      store.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      state = 'stopped';
      logger.info('validator stopped', { unsent_statuses: left });
    })();
    return stopping;
  };

  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  logger.info('validator listening', { host, port, hotkey: hotkey.ss58, facilitator: options.facilitatorUrl, recovered_jobs: recoveredJobs });
  return {
    hotkey: hotkey.ss58,
    port,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    root,
    dispatcher,
    metrics,
    get state() {
      return state;
    },
    get ready() {
      return readiness().ready;
    },
    recoveredJobs,
    pendingStatuses: () => (state === 'stopped' ? 0 : store.pendingCount()),
    stop,
  };
}
