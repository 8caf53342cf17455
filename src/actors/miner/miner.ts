/**
 * `startMiner`: the miner's actor system wired to real effects — HTTP + WebSocket server, receipt store, executor
 * pools over an executor backend — and its SIGTERM drain.
 *
 * Actor tree (root first):
 * ```
 * minerRoot (supervisor, one_for_one)
 * ├── receiptStore            single writer of receipts (FIFO: verify, countersign, store, excuse queries)
 * ├── executorManager         supervisor of the pools
 * │   └── pool:<class>        one per manifest class: slots, reservations
 * │       └── executor:<tok>  one per running executor: spawn, watch, TTL, kill, sweep
 * ├── jobs                    supervisor of the job partitions
 * │   └── jobs:<k>            supervisor of the jobs whose uuid hashes to k (temporary children)
 * │       └── job:<uuid>      bridges the validator connection(s) and the executor connection
 * └── connections             supervisor the acceptor spawns connections under
 *     └── validator-<n> / executor-<n>   connection actors, each running its session machine as role
 * ```
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { createActor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { signStreamingReady, verifyValidatorAuth, type Hotkey } from '../../crypto';
import { createRouter, respondJson, type PathHandler } from '../../http/router';
import type { MetagraphProvider } from '../../metagraph/types';
import { createExecutorSessionMachine } from '../../machines/executorSession.machine';
import { ReservationDesk } from '../../machines/executorPool.desk';
import { executorPoolMachine, type ExecutorPoolEvent, type ExecutorPoolObserver } from '../../machines/executorPool.machine';
import type { ExecutorTimings } from '../../machines/executorInstance.machine';
import { minerJobMachine, type MinerJobEvent, type MinerJobInput, type MinerJobObserver, type MinerJobTimings } from '../../machines/minerJob.machine';
import { minerHordeFailed } from '../../machines/minerJobRelay';
import { createValidatorSessionLogic, type ValidatorSessionServices } from '../../machines/validatorSession.machine';
import {
  duplexCodec,
  executorToMinerCodec,
  minerToExecutorCodec,
  minerToValidatorCodec,
  validatorToMinerCodec,
  type ExecutorClass,
} from '../../protocol';
import { LEAF_SUPERVISOR_PERIOD_MS, leafSupervisorPolicy, rootSupervisorPolicy } from '../../supervisors/defaults';
import type { ChildSpec, SupervisorPolicy } from '../../supervisors/policy';
import { watchRootFailure } from '../../supervisors/rootFailure';
import { supervisorMachine, type SupervisorDecisionEvent } from '../../supervisors/supervisor.machine';
import { healthRoutes } from '../../telemetry/health';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { createAcceptor, type Acceptor, type ConnectionBehaviour } from '../../transport/acceptor';
import { QuietBatch } from '../../transport/quietBatch';
import { systemClock, type Clock } from '../../util/clock';
import { errorCode } from '../../util/errors';
import type { ExecutorBackend } from './backends/types';
import {
  ACTIVE_JOB_STALE_MS,
  DETACHED_OUTBOX_CAPACITY,
  DRAIN_GRACE_MS,
  EXECUTOR_EXIT_GRACE_AFTER_JOB_MS,
  EXECUTOR_HEALTH_CHECK_INTERVAL_MS,
  EXECUTOR_KILL_CONFIRM_TIMEOUT_MS,
  EXECUTOR_STARTUP_TIME_LIMIT_MS,
  EXECUTOR_STOP_GRACE_MS,
  EXECUTOR_SWEEP_TIMEOUT_MS,
  EXECUTOR_TTL_MS,
  JOB_EARLY_EVENTS_CAPACITY,
  JOB_SUPERVISOR_PARTITIONS,
  MAX_EXCUSE_RECEIPTS,
  MINER_DEFAULT_HOST,
  MINER_DEFAULT_PORT,
  PRE_AUTH_QUEUE_CAPACITY,
  RECEIPT_CRYPTO_THREADS,
  RECEIPT_QUEUE_CAPACITY,
  UNDELIVERED_RESULT_TTL_MS,
  WAITING_FOR_PAYLOAD_STALE_MS,
} from './defaults';
import { MinerConfigError } from './errors';
import { executorInstanceLogic } from './executorInstance';
import { JobRegistry, type JobEntry } from './jobRegistry';
import { KNOWN_EXECUTOR_CLASSES, spinUpTimeMs, type Manifest } from './manifest';
import { createMinerMetrics, type MinerMetrics } from './metrics';
import { createOccupancyStore, type OccupancyStore } from './occupancy';
import { receiptsRoute } from './receiptRoutes';
import { inlineReceiptCrypto, workerReceiptCrypto, type ReceiptCrypto } from './receiptCrypto';
import { ReceiptStore } from './receiptStore';
import { receiptStoreLogic, type ReceiptStoreEvent } from './receiptStore.actor';

/** Every duration and bound of a miner; each defaults to the constant of the same meaning in `defaults.ts`. */
export interface MinerTimings {
  readonly executorTtlMs: number;
  readonly healthCheckIntervalMs: number;
  readonly stopGraceMs: number;
  readonly killConfirmTimeoutMs: number;
  readonly exitGraceAfterJobMs: number;
  readonly sweepTimeoutMs: number;
  /** Added to a class's spin-up time to give the executor's connection deadline. */
  readonly executorStartupLimitMs: number;
  /** Per-class spin-up time overrides (ms). */
  readonly spinUpMs: Manifest;
  readonly waitingForPayloadStaleMs: number;
  readonly activeStaleMs: number;
  readonly undeliveredResultTtlMs: number;
  readonly preAuthQueueCapacity: number;
  readonly detachedOutboxCapacity: number;
  readonly receiptQueueCapacity: number;
  readonly maxExcuseReceipts: number;
  readonly drainGraceMs: number;
}

/** The defaults of {@link MinerTimings}. */
export const DEFAULT_MINER_TIMINGS: MinerTimings = Object.freeze({
  executorTtlMs: EXECUTOR_TTL_MS,
  healthCheckIntervalMs: EXECUTOR_HEALTH_CHECK_INTERVAL_MS,
  stopGraceMs: EXECUTOR_STOP_GRACE_MS,
  killConfirmTimeoutMs: EXECUTOR_KILL_CONFIRM_TIMEOUT_MS,
  exitGraceAfterJobMs: EXECUTOR_EXIT_GRACE_AFTER_JOB_MS,
  sweepTimeoutMs: EXECUTOR_SWEEP_TIMEOUT_MS,
  executorStartupLimitMs: EXECUTOR_STARTUP_TIME_LIMIT_MS,
  spinUpMs: {},
  waitingForPayloadStaleMs: WAITING_FOR_PAYLOAD_STALE_MS,
  activeStaleMs: ACTIVE_JOB_STALE_MS,
  undeliveredResultTtlMs: UNDELIVERED_RESULT_TTL_MS,
  preAuthQueueCapacity: PRE_AUTH_QUEUE_CAPACITY,
  detachedOutboxCapacity: DETACHED_OUTBOX_CAPACITY,
  receiptQueueCapacity: RECEIPT_QUEUE_CAPACITY,
  maxExcuseReceipts: MAX_EXCUSE_RECEIPTS,
  drainGraceMs: DRAIN_GRACE_MS,
});

/** Where the server listens, for backends that tell executors how to dial back. */
export interface ListeningAddress {
  readonly host: string;
  readonly port: number;
}

export interface MinerOptions {
  readonly hotkey: Hotkey;
  /** @default MINER_DEFAULT_HOST */
  readonly host?: string;
  /** 0 picks a free port. @default MINER_DEFAULT_PORT */
  readonly port?: number;
  /** Executor count per class: the manifest sent to validators and the pools' sizes. */
  readonly manifest: Manifest;
  /** Which validators are known and active. Not closed by the miner. */
  readonly metagraph: MetagraphProvider;
  /** Makes the executor backend once the server listens (executors must be told where to dial). */
  readonly backend: (address: ListeningAddress) => ExecutorBackend;
  /** Receipt pages and index. */
  readonly receiptsDir: string;
  /** `/version`'s `miner_version`. */
  readonly version: string;
  /** Answer to `V0MainHotkeyMessage`. @default the miner's own hotkey */
  readonly mainHotkey?: string | null;
  /**
   * Worker threads verifying and countersigning receipts (0: on the event loop, one operation per macrotask).
   * @default RECEIPT_CRYPTO_THREADS
   */
  readonly receiptCryptoThreads?: number;
  /** Validators whose initial requests are declined (`validator_blacklisted`). */
  readonly blacklist?: readonly string[];
  readonly timings?: Partial<MinerTimings>;
  /** Wall clock (receipt pages, auth freshness, latencies). */
  readonly clock?: Clock;
  /** Executor token of a job. @default `${jobUuid}-${randomUUID()}` (upstream's format) */
  readonly newToken?: (jobUuid: string) => string;
  readonly logger?: Logger;
  /** Meter for the miner's and the acceptor's instruments (the global Horde meter by default). */
  readonly meter?: Meter;
  /** Mounted at `/metrics` (the telemetry handle's `metricsHandler`). */
  readonly metricsHandler?: PathHandler;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called if the root actor fails (the process should exit). */
  readonly onFatal?: (error: unknown) => void;
}

/** `serving` → `draining` (SIGTERM) → `stopped`. */
export type MinerState = 'serving' | 'draining' | 'stopped';

/** A running miner. */
export interface MinerHandle {
  readonly port: number;
  /** `http://host:port` (WebSocket routes at `ws://host:port/v0.1/...`). */
  readonly url: string;
  readonly hotkey: string;
  readonly root: AnyActorRef;
  readonly occupancy: OccupancyStore;
  readonly metrics: MinerMetrics;
  readonly acceptor: Acceptor;
  readonly state: MinerState;
  /** Jobs the miner currently tracks. */
  readonly jobCount: number;
  /**
   * SIGTERM behaviour: stop granting reservations, let running executors finish within `graceMs`, then kill what is
   * left and wait until every executor is gone. Resolves when no executor remains. Idempotent.
   */
  drain(graceMs?: number): Promise<void>;
  /** Kills every running executor now and refuses new jobs (a second SIGTERM during a drain). */
  killExecutors(): void;
  /** Drains (with `graceMs`), then closes connections, stops every actor, the store and the server. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

const CONNECTION_POLICY = (): SupervisorPolicy => ({
  strategy: 'one_for_one',
  intensity: 0,
  periodMs: LEAF_SUPERVISOR_PERIOD_MS,
  // Temporary children are never restarted; a failed one must not take its siblings down.
  decider: () => 'stop',
});

/** Jobs and connections held at most by their supervisors (each spawn costs O(children) in XState). */
const MAX_DYNAMIC_CHILDREN = 2_000;

/** Jobs one jobs supervisor partition holds at most. */
const JOBS_PER_PARTITION = Math.ceil(MAX_DYNAMIC_CHILDREN / JOB_SUPERVISOR_PARTITIONS);

/** FNV-1a of a job uuid, to its job supervisor partition. */
export function jobPartitionOf(jobUuid: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobUuid.length; i++) {
    hash ^= jobUuid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/** Time the receipt store is given to finish its queue on shutdown. */
const RECEIPT_FLUSH_TIMEOUT_MS = 10_000;

/** Time a job is given to report after `supervisor.shutdown` before it is stopped by force. */
const JOB_SHUTDOWN_MS = 2_000;

function waitFor(store: OccupancyStore, predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  if (predicate()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      resolve(predicate());
    }, timeoutMs);
    const subscription = store.subscribe(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve(true);
    });
  });
}

function whenDone(actor: AnyActorRef): Promise<void> {
  const status = (actor.getSnapshot() as { status: string }).status;
  if (status !== 'active') return Promise.resolve();
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
 * Starts a miner: listens, serves the validator and executor WebSocket routes, `/receipts/<page>.jsonl`, `/version`,
 * `/metrics` (when given a handler), `/healthz` and `/readyz`. Call `setupTelemetry()` BEFORE this (instruments made
 * earlier stay no-op).
 *
 * @example
 * ```ts
 * const miner = await startMiner({ hotkey, manifest: { 'always_on.test': 2 }, metagraph, receiptsDir: 'data/receipts',
 *   version: '0.1.0', backend: ({ port }) => childProcessBackend({ command, minerAddress: `ws://127.0.0.1:${port}`,
 *   docker, logger }) });
 * process.once('SIGTERM', () => void miner.stop({ graceMs: 60_000 }));
 * ```
 */
export async function startMiner(options: MinerOptions): Promise<MinerHandle> {
  const timings: MinerTimings = { ...DEFAULT_MINER_TIMINGS, ...options.timings };
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = createMinerMetrics(options.meter);
  const manifest = options.manifest;
  const problems = Object.keys(manifest)
    .filter((name) => !(KNOWN_EXECUTOR_CLASSES as readonly string[]).includes(name))
    .map((name) => `unknown executor class "${name}" in the manifest`);
  if (problems.length > 0) throw new MinerConfigError(problems);
  const newToken = options.newToken ?? ((jobUuid: string) => `${jobUuid}-${randomUUID()}`);
  const blacklist = new Set(options.blacklist ?? []);
  const hotkey = options.hotkey;

  const threads = options.receiptCryptoThreads ?? RECEIPT_CRYPTO_THREADS;
  let crypto: ReceiptCrypto;
  try {
    crypto = threads === 0 ? inlineReceiptCrypto(hotkey) : await workerReceiptCrypto(hotkey, threads);
  } catch (error) {
    logger.warn('receipt crypto workers did not start; signing on the event loop', { error: (error as Error).message });
    crypto = inlineReceiptCrypto(hotkey);
  }
  let store: ReceiptStore;
  try {
    store = ReceiptStore.open({ dir: options.receiptsDir, clock });
  } catch (error) {
    await crypto.close();
    throw error;
  }
  const occupancy = createOccupancyStore();
  const observeSlots = (result: { observe(value: number, attributes: Record<string, string>): void }): void => {
    for (const [executorClass, slots] of Object.entries(occupancy.getSnapshot().context.classes)) {
      if (slots === undefined) continue;
      result.observe(slots.capacity, { executor_class: executorClass, state: 'capacity' });
      result.observe(slots.held, { executor_class: executorClass, state: 'held' });
      result.observe(slots.capacity - slots.held, { executor_class: executorClass, state: 'free' });
    }
  };
  metrics.poolSlots.addCallback(observeSlots);

  let state: MinerState = 'serving';
  // Set once the root actor exists (the HTTP server listens before: executors must know its port).
  const actors: { root?: AnyActorRef } = {};
  const router = createRouter()
    .get('/version', (req, res) =>
      respondJson(
        res,
        200,
        { miner_version: options.version, runner_version: process.env['HORDE_RUNNER_VERSION'] ?? 'unknown' },
        req.method === 'HEAD',
      ),
    )
    .use(
      healthRoutes(() => actors.root, {
        readiness: (snapshot) =>
          state !== 'serving' ? { ready: false, reason: `miner is ${state}` } : { ready: snapshot.value === 'running' },
      }),
    )
    .use(receiptsRoute(store));
  if (options.metricsHandler !== undefined) router.get('/metrics', options.metricsHandler);
  const server: Server = createServer(router.handler);
  const host = options.host ?? MINER_DEFAULT_HOST;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? MINER_DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    store.close();
    await crypto.close();
    metrics.poolSlots.removeCallback(observeSlots);
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const backend = options.backend({ host, port });
  const killOnExit = (): void => backend.killAllSync();
  process.on('exit', killOnExit);

  const executorTimings = (executorClass: ExecutorClass): ExecutorTimings => ({
    spinUpTimeoutMs: spinUpTimeMs(executorClass, timings.spinUpMs),
    ttlMs: timings.executorTtlMs,
    healthCheckIntervalMs: timings.healthCheckIntervalMs,
    stopGraceMs: timings.stopGraceMs,
    killConfirmTimeoutMs: timings.killConfirmTimeoutMs,
    exitGraceAfterJobMs: timings.exitGraceAfterJobMs,
    sweepTimeoutMs: timings.sweepTimeoutMs,
  });
  const poolShutdownMs = timings.stopGraceMs + timings.killConfirmTimeoutMs + timings.sweepTimeoutMs + 1_000;

  const poolObserver: ExecutorPoolObserver = {
    occupancy: (c, capacity, held) => occupancy.trigger.set({ executorClass: c, capacity, held }),
    executorEnded: (output) => {
      metrics.executorExits.add(1, { executor_class: output.executorClass, end: output.end });
      metrics.executorLifetimeMs.record(output.lifetimeMs, { executor_class: output.executorClass, end: output.end });
      if (output.containersRemoved > 0) metrics.leftoverContainersRemoved.add(output.containersRemoved);
      const fields = { token: output.token.slice(0, 36), end: output.end, exit: output.exit, lifetimeMs: output.lifetimeMs };
      if (output.sweepProblem !== undefined) logger.warn('executor sweep failed', { ...fields, problem: output.sweepProblem });
      if (output.spinUpProblem !== undefined) logger.warn('executor did not start', { ...fields, problem: output.spinUpProblem });
      else logger.info('executor ended', { ...fields, containersRemoved: output.containersRemoved });
    },
    executorFailed: (token, error) => logger.error('executor actor failed', { token: token.slice(0, 36), code: errorCode(error) }),
  };
  const poolLogic = executorPoolMachine.provide({ actors: { executor: executorInstanceLogic(backend, logger) } });
  // One reservation desk per class, shared by the miner (which reserves) and the class's pool (which starts executors).
  const desks = new Map<ExecutorClass, ReservationDesk>(
    Object.entries(manifest).map(([name, count]) => [name as ExecutorClass, new ReservationDesk(name as ExecutorClass, count ?? 0, () => clock.nowMs())]),
  );
  const pools: ChildSpec[] = Object.entries(manifest).map(([name]) => {
    const executorClass = name as ExecutorClass;
    return {
      id: `pool:${executorClass}`,
      systemId: `miner.pool.${executorClass}`,
      logic: poolLogic,
      restart: 'permanent',
      shutdownMs: poolShutdownMs,
      input: {
        executorClass,
        desk: desks.get(executorClass)!,
        timings: executorTimings(executorClass),
        clock,
        observer: poolObserver,
      },
    } satisfies ChildSpec;
  });

  const registry = new JobRegistry(JOB_EARLY_EVENTS_CAPACITY);
  const toJob = (entry: JobEntry, event: MinerJobEvent): void => {
    if (registry.send(entry, event) === 'dropped') {
      metrics.droppedMessages.add(1, { queue: 'job_start' });
      logger.warn('event for a job not started yet dropped', { jobUuid: entry.jobUuid, event: event.type });
    }
  };
  const jobTimings = (executorClass: ExecutorClass): MinerJobTimings => ({
    executorConnectTimeoutMs: spinUpTimeMs(executorClass, timings.spinUpMs) + timings.executorStartupLimitMs,
    waitingForPayloadStaleMs: timings.waitingForPayloadStaleMs,
    activeStaleMs: timings.activeStaleMs,
    undeliveredResultTtlMs: timings.undeliveredResultTtlMs,
    detachedOutboxCapacity: timings.detachedOutboxCapacity,
    maxExcuseReceipts: timings.maxExcuseReceipts,
  });

  const jobObserver = (executorClass: ExecutorClass): MinerJobObserver => ({
    reservation: (outcome, latencyMs) => {
      metrics.reservations.add(1, { executor_class: executorClass, outcome });
      metrics.reservationLatencyMs.record(latencyMs, { executor_class: executorClass, outcome });
    },
    ended: (outcome) => metrics.jobs.add(1, { outcome }),
    dropped: (queue) => metrics.droppedMessages.add(1, { queue }),
    log: (level, msg, fields) => logger.log(level, msg, fields),
  });

  const system = (): AnyActorRef['system'] => actors.root!.system;
  const receiptStoreRef = (): AnyActorRef => system().get('miner.receiptStore') as AnyActorRef;
  const jobPartitionId = (k: number): string => `miner.jobs.${k}`;
  const poolRef = (executorClass: ExecutorClass): AnyActorRef | undefined =>
    system().get(`miner.pool.${executorClass}`) as AnyActorRef | undefined;

  /** Starts a job actor under its partition now; undefined when the partition refused (full). */
  const startJobActor = (partition: number, childId: string, input: MinerJobInput): AnyActorRef | undefined => {
    const jobs = system().get(jobPartitionId(partition)) as AnyActorRef;
    jobs.send({
      type: 'supervisor.start_child',
      spec: { id: childId, logic: minerJobMachine, input, restart: 'temporary', shutdownMs: JOB_SHUTDOWN_MS } satisfies ChildSpec,
    });
    return (jobs.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[childId];
  };
  /** Jobs of a partition: running, plus accepted ones whose actor is not started yet. */
  const partitionLoad = (partition: number): number =>
    Object.keys(((system().get(jobPartitionId(partition)) as AnyActorRef).getSnapshot() as { children: object }).children).length +
    (pendingPerPartition[partition] ?? 0);

  /**
   * Accepted jobs whose actors start once the burst of initial requests is over (no accept for a quiet window, see
   * `QuietBatch`): every initial request of a burst is answered before the first job actor is started, even when the
   * burst's frames reach the event loop over several turns (starting an actor costs about as much as answering a
   * request). Bounded by the jobs supervisors' capacity (checked before accepting).
   */
  interface DeferredStart {
    readonly partition: number;
    readonly childId: string;
    readonly makeInput: () => MinerJobInput;
    readonly latencyMs: number;
  }
  const pendingPerPartition: number[] = [];
  const startDeferredJobs = (batch: readonly DeferredStart[]): void => {
    pendingPerPartition.length = 0;
    const alive = (actors.root?.getSnapshot() as { status: string } | undefined)?.status === 'active';
    for (const { partition, childId, makeInput, latencyMs } of batch) {
      const input = makeInput();
      const executorClass = input.initialRequest.executor_class;
      input.observer?.reservation('reserved', latencyMs);
      const ref = alive ? startJobActor(partition, childId, input) : undefined;
      if (ref !== undefined) {
        desks.get(executorClass)?.bind(input.token, ref);
        registry.bind(input.jobUuid, ref);
        continue;
      }
      // Accepted, but the job cannot run (the miner is stopping, or the partition filled up meanwhile): its slot goes
      // back and the validator is told, as for an executor that failed to start.
      desks.get(executorClass)?.cancel(input.token);
      registry.remove(input.jobUuid);
      logger.warn('accepted job could not be started', { jobUuid: input.jobUuid, stopping: !alive });
      input.session.connection.send({
        type: 'connection.send',
        message: minerHordeFailed(input.jobUuid, 'executor_spinup_failed', 'Miner could not start the job'),
      });
      metrics.jobs.add(1, { outcome: 'horde_failed' });
    }
  };
  const deferredStarts = new QuietBatch<DeferredStart>({
    run: startDeferredJobs,
    onError: (error) => logger.error('deferred job start failed', { error: error.message, code: errorCode(error) }),
    clock,
  });

  const sessionServices: ValidatorSessionServices = {
    standing: (validatorHotkey) => {
      const validator = options.metagraph.validator(validatorHotkey);
      if (validator === undefined) return 'unknown';
      return validator.active ? 'active' : 'inactive';
    },
    verifyAuth: (message, validatorHotkey) => {
      const verdict = verifyValidatorAuth(message, {
        expectedValidatorHotkey: validatorHotkey,
        expectedMinerHotkey: hotkey.ss58,
        clock,
      });
      return verdict.ok ? { ok: true } : { ok: false, message: verdict.error.message };
    },
    manifest: () => manifest,
    mainHotkey: () => (options.mainHotkey === undefined ? hotkey.ss58 : options.mainHotkey),
    isBlacklisted: (validatorHotkey) => blacklist.has(validatorHotkey),
    startJob: (request, validatorHotkey, session, receivedAtMs) => {
      const jobUuid = request.job_uuid;
      if (registry.has(jobUuid)) return { kind: 'duplicate' };
      const token = newToken(jobUuid);
      const executorClass = request.executor_class;
      const desk = desks.get(executorClass);
      // The slot is taken now, before the job exists: the job starts knowing whether to accept.
      const reservation = desk === undefined ? 'unknown_class' : desk.reserve(token, jobUuid);
      const partition = jobPartitionOf(jobUuid, JOB_SUPERVISOR_PARTITIONS);
      const childId = `job:${jobUuid}`;
      const entry = { jobUuid, token, validatorHotkey, executorClass, childId };
      const input = (acceptSent: boolean): MinerJobInput => ({
        jobUuid,
        token,
        validatorHotkey,
        initialRequest: request,
        session,
        receivedAtMs,
        timings: jobTimings(executorClass),
        pool: poolRef(executorClass),
        reservation,
        acceptSent,
        receiptStore: receiptStoreRef(),
        signStreamingReady: (fields) => signStreamingReady(hotkey, fields),
        clock,
        observer: jobObserver(executorClass),
      });
      if (reservation !== 'reserved') {
        // Declined (busy, draining, no such class): the job actor queries the excuses and answers, as before.
        const ref = startJobActor(partition, childId, input(false));
        if (ref === undefined) return { kind: 'refused', reason: 'too many jobs' };
        registry.add({ ...entry, ref });
        return { kind: 'started' };
      }
      if (partitionLoad(partition) >= JOBS_PER_PARTITION) {
        desk?.cancel(token);
        return { kind: 'refused', reason: 'too many jobs' };
      }
      // Accepted before the job actor exists (the actor's start is most of a request's cost): the JobStarted receipt
      // is queued first (the receipt store is a FIFO: a later decline's excuse query sees it), then the accept goes.
      // The actor starts once the burst has been answered; until then the registry holds what is sent to it.
      receiptStoreRef().send({
        type: 'receipts.submit',
        payload: request.job_started_receipt_payload,
        validatorSignature: request.job_started_receipt_signature,
        expectedValidatorHotkey: validatorHotkey,
      } satisfies ReceiptStoreEvent);
      session.connection.send({ type: 'connection.send', message: { message_type: 'V0AcceptJobRequest', job_uuid: jobUuid } });
      const latencyMs = clock.nowMs() - receivedAtMs;
      registry.add({ ...entry, ref: undefined });
      pendingPerPartition[partition] = (pendingPerPartition[partition] ?? 0) + 1;
      // The job's input is built with its actor, after the burst: none of it is needed for the accept.
      deferredStarts.push({ partition, childId, makeInput: () => input(true), latencyMs });
      return { kind: 'started' };
    },
    attachJobs: (validatorHotkey, session) => {
      for (const entry of registry.ofValidator(validatorHotkey)) {
        toJob(entry, { type: 'job.validator.attached', link: session });
      }
    },
    detachJobs: (validatorHotkey, sessionId) => {
      for (const entry of registry.ofValidator(validatorHotkey)) {
        toJob(entry, { type: 'job.validator.detached', sessionId });
      }
    },
    routeJobRequest: (validatorHotkey, message, from) => {
      const entry = registry.get(message.job_uuid);
      if (entry === undefined || entry.validatorHotkey !== validatorHotkey) return false;
      toJob(entry, { type: 'job.validator.message', message, from });
      return true;
    },
    submitReceipt: (validatorHotkey, message) => {
      receiptStoreRef().send({
        type: 'receipts.submit',
        payload: message.payload,
        validatorSignature: message.signature,
        expectedValidatorHotkey: validatorHotkey,
      } satisfies ReceiptStoreEvent);
    },
    nowMs: () => clock.nowMs(),
    preAuthQueueCapacity: timings.preAuthQueueCapacity,
    observer: {
      opened: () => metrics.sessionsOpen.add(1),
      closed: () => metrics.sessionsOpen.add(-1),
      outcome: (outcome) => metrics.sessions.add(1, { outcome }),
      dropped: (queue) => metrics.droppedMessages.add(1, { queue }),
      log: (level, msg, fields) => logger.log(level, msg, fields),
    },
  };

  const executorSession = createExecutorSessionMachine({
    claimToken: (token) => {
      const claim = registry.claim(token, (ref) =>
        (ref.getSnapshot() as { matches(value: unknown): boolean }).matches({ active: 'awaitingExecutor' }),
      );
      if (claim.ok) return { ok: true, job: claim.entry.ref! };
      const details =
        claim.refusal === 'token_used'
          ? `Job with token ${token} already has an executor`
          : claim.refusal === 'not_waiting'
            ? `Job with token ${token} is not waiting for an executor`
            : `No job waiting for token ${token}`;
      return { ok: false, details };
    },
    log: (level, msg, fields) => logger.log(level, msg, fields),
  });

  const rootActor = createActor(supervisorMachine, {
    input: {
      policy: rootSupervisorPolicy('one_for_one'),
      clock,
      name: 'minerRoot',
      children: [
        {
          id: 'receiptStore',
          systemId: 'miner.receiptStore',
          logic: receiptStoreLogic,
          input: { store, miner: hotkey, crypto, metrics, logger, queueCapacity: timings.receiptQueueCapacity },
          restart: 'permanent',
          // Time to finish the queued receipts (~12 ms each) before they are dropped.
          shutdownMs: RECEIPT_FLUSH_TIMEOUT_MS,
        },
        {
          id: 'executorManager',
          systemId: 'miner.executorManager',
          logic: supervisorMachine,
          input: { policy: leafSupervisorPolicy('one_for_one'), children: pools, clock, name: 'executorManager' },
          restart: 'permanent',
          shutdownMs: poolShutdownMs * Math.max(1, pools.length) + 1_000,
        },
        {
          id: 'jobs',
          systemId: 'miner.jobs',
          logic: supervisorMachine,
          input: {
            policy: leafSupervisorPolicy('one_for_one'),
            clock,
            name: 'jobs',
            children: Array.from({ length: JOB_SUPERVISOR_PARTITIONS }, (_, k) => ({
              id: `jobs:${k}`,
              systemId: jobPartitionId(k),
              logic: supervisorMachine,
              input: {
                policy: CONNECTION_POLICY(),
                clock,
                name: `jobs:${k}`,
                maxChildren: JOBS_PER_PARTITION,
              },
              restart: 'permanent',
              shutdownMs: 10_000,
            })),
          },
          restart: 'permanent',
          // The whole jobs subtree gets what the single jobs supervisor had; a partition past it is stopped by force.
          shutdownMs: 10_000,
        },
        {
          id: 'connections',
          systemId: 'miner.connections',
          logic: supervisorMachine,
          input: { policy: CONNECTION_POLICY(), clock, name: 'connections', maxChildren: MAX_DYNAMIC_CHILDREN },
          restart: 'permanent',
          shutdownMs: 10_000,
        },
      ],
    },
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });
  watchRootFailure(rootActor, { role: 'miner', logger, onFatal: options.onFatal });
  rootActor.start();
  actors.root = rootActor;

  // A job's registry entry goes when its actor does (whatever ended it).
  const decisions = Array.from({ length: JOB_SUPERVISOR_PARTITIONS }, (_, k) =>
    (system().get(jobPartitionId(k)) as AnyActorRef).on('supervisor.decision', (decision: SupervisorDecisionEvent) => {
      registry.removeByChildId(decision.childId);
    }),
  );

  const acceptor = createAcceptor({
    server,
    supervisor: system().get('miner.connections') as AnyActorRef,
    clock,
    ...(options.meter === undefined ? {} : { meter: options.meter }),
    routes: [
      {
        name: 'validator',
        path: '/v0.1/validator_interface/:validator_hotkey',
        codec: duplexCodec(validatorToMinerCodec, minerToValidatorCodec),
        // The session machines also list the events they raise themselves; the acceptor only ever sends role events.
        behaviour: createValidatorSessionLogic(sessionServices) as unknown as ConnectionBehaviour,
      },
      {
        name: 'executor',
        path: '/v0.1/executor_interface/:token',
        codec: duplexCodec(executorToMinerCodec, minerToExecutorCodec),
        behaviour: executorSession as unknown as ConnectionBehaviour,
      },
    ],
  });

  const everyPool = (event: ExecutorPoolEvent): void => {
    for (const name of Object.keys(manifest)) poolRef(name as ExecutorClass)?.send(event);
  };
  const noneHeld = (): boolean => occupancy.getSnapshot().context.held === 0;

  let draining: Promise<void> | undefined;
  const drain = (graceMs = timings.drainGraceMs): Promise<void> => {
    draining ??= (async () => {
      if (state === 'serving') state = 'draining';
      // Jobs already accepted start now: their executors are what the drain waits for.
      deferredStarts.flush();
      logger.info('draining: no new jobs; waiting for running executors', { graceMs, held: occupancy.getSnapshot().context.held });
      everyPool({ type: 'pool.drain' });
      if (!(await waitFor(occupancy, noneHeld, graceMs))) {
        logger.warn('drain grace over; killing the executors still running', { held: occupancy.getSnapshot().context.held });
        everyPool({ type: 'pool.kill_all' });
        await waitFor(occupancy, noneHeld, poolShutdownMs);
      }
    })();
    return draining;
  };

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      await drain(stopOptions.graceMs);
      await acceptor.close({ graceMs: 1_000, reason: 'miner shutting down' });
      rootActor.send({ type: 'supervisor.shutdown' });
      await whenDone(rootActor);
      for (const subscription of decisions) subscription.unsubscribe();
      store.close();
      await crypto.close();
      await backend.close();
      metrics.poolSlots.removeCallback(observeSlots);
      process.off('exit', killOnExit);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      state = 'stopped';
      logger.info('miner stopped');
    })();
    return stopping;
  };

  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  logger.info('miner listening', { host, port, hotkey: hotkey.ss58, manifest });
  return {
    port,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    hotkey: hotkey.ss58,
    root: rootActor,
    occupancy,
    metrics,
    acceptor,
    get state() {
      return state;
    },
    get jobCount() {
      return registry.size;
    },
    drain,
    killExecutors: () => {
      if (state === 'serving') state = 'draining';
      everyPool({ type: 'pool.kill_all' });
    },
    stop,
  };
}
