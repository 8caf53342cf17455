import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import Dockerode from 'dockerode';
import { createActor, fromPromise, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { jobUuidFromToken } from '../../machines/jobReport';
import { duplexCodec, executorToMinerCodec, minerToExecutorCodec, type ExecutorToMinerMessageInput, type FrameCodec, type MinerToExecutorMessage } from '../../protocol';
import { extractTraceContext, injectTraceHeaders } from '../../telemetry/trace-context';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { wsTransportMachine } from '../../transport/transport';
import { systemClock, type Clock } from '../../util/clock';
import {
  CLEANUP_TIMEOUT_MS,
  EFFECT_SETTLE_TIMEOUT_MS,
  EXECUTION_KILL_GRACE_MS,
  EXECUTION_REPORT_RESERVE_MS,
  MAX_GENERIC_ERROR_REPLIES,
  MINER_LINK_CONNECT_TIMEOUT_MS,
  MINER_LINK_RECONNECT_BASE_MS,
  MINER_LINK_RECONNECT_CAP_MS,
  STALE_JOB_CONTAINER_AGE_MS,
} from './defaults';
import { DEFAULT_CLOSE_TIMEOUT_MS } from '../../transport/defaults';
import { createDockerRuntime } from './docker';
import { executorRootMachine, type ExecutorExit, type ExecutorRootObserver } from './executorRoot.machine';
import { createJobDriverLogic } from './jobDriver';
import { createJobDriverMetrics, createJobObserver, type JobDriverMetrics } from './jobMetrics';
import { cleanupJob, JobResources } from './jobResources';
import { createExecutorMetrics } from './metrics';
import type { ExecutorConfig } from './settings';

/** What `createExecutorRoot` needs besides the configuration (all injectable for tests and benchmarks). */
export interface ExecutorRootOptions {
  readonly config: ExecutorConfig;
  readonly logger?: Logger;
  readonly docker?: Dockerode;
  /** Instruments (default: new ones on `hordeMeter()`; build after telemetry setup). */
  readonly metrics?: JobDriverMetrics;
  /** Wall clock for container ages (default: the system clock). */
  readonly wallClock?: Clock;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Stale containers were swept before this job (by the standby stage): the job's startup skips its sweep. */
  readonly staleSweepDone?: boolean;
}

/** A built executor: the root actor (not started), its resources and a last-resort sweep. */
export interface ExecutorRoot {
  readonly actor: Actor<typeof executorRootMachine>;
  readonly resources: JobResources;
  /** The dialled URL, token included (treat as a secret). */
  readonly url: string;
  /** Removes this run's containers and temp dir; for a crash of the root itself (never expected). */
  emergencySweep(): Promise<void>;
}

/** The executor's side of the miner link: decodes miner→executor, encodes executor→miner. */
export const executorLinkCodec: FrameCodec<MinerToExecutorMessage, ExecutorToMinerMessageInput> = duplexCodec(minerToExecutorCodec, executorToMinerCodec);

/** `{MINER_ADDRESS}/v0.1/executor_interface/{token}`, as upstream's `MinerClient.miner_url`. */
export function executorInterfaceUrl(minerAddress: string, token: string): string {
  return `${minerAddress.replace(/\/+$/, '')}/v0.1/executor_interface/${encodeURIComponent(token)}`;
}

/**
 * Builds the executor's actor tree from a loaded configuration: the root (one_for_all), the miner link (the
 * transport actor on a real WebSocket), the job driver with its docker/HTTP/fs effects, and the sweep. The miner
 * link carries the job span's `traceparent` in its upgrade request.
 *
 * @example
 * ```ts
 * const { actor } = createExecutorRoot({ config, logger });
 * actor.start();
 * const exit = await toPromise(actor); // { code, outcome, reason, ... }
 * ```
 */
export function createExecutorRoot(options: ExecutorRootOptions): ExecutorRoot {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const docker = options.docker ?? new Dockerode({ socketPath: config.dockerSocket });
  const metrics = options.metrics ?? createJobDriverMetrics();
  const resources = new JobResources();
  const runtime = createDockerRuntime({
    docker,
    metrics: createExecutorMetrics(),
    onCleanupError: (error, containerId) => logger.warn('job container not removed', { containerId, error: error.message }),
  });
  const jobUuidHint = jobUuidFromToken(config.executorToken);
  const parentContext = config.traceparent === undefined ? ROOT_CONTEXT : extractTraceContext({ traceparent: config.traceparent });
  const observer = createJobObserver({
    metrics,
    logger,
    parentContext,
    attributes: jobUuidHint === undefined ? {} : { 'horde.job.uuid': jobUuidHint },
  });
  const settleTimeoutMs = EFFECT_SETTLE_TIMEOUT_MS;
  const driverLogic = createJobDriverLogic({
    docker,
    runtime,
    resources,
    hordeId: config.hordeId,
    token: config.executorToken,
    pullPolicy: config.imagePullPolicy,
    imagePullTimeoutMs: config.imagePullTimeoutMs,
    ...(config.workDir === undefined ? {} : { workDir: config.workDir }),
    cleanupImage: config.cleanupImage,
    ...(config.jobMemoryMb === undefined ? {} : { memoryBytes: config.jobMemoryMb * 1024 * 1024 }),
    ...(config.jobCpus === undefined ? {} : { nanoCpus: Math.round(config.jobCpus * 1e9) }),
    wallClock: options.wallClock ?? systemClock,
    staleContainerAgeMs: STALE_JOB_CONTAINER_AGE_MS,
    staleSweepDone: options.staleSweepDone === true,
    settleTimeoutMs,
  });
  const sweep = (signal: AbortSignal) =>
    cleanupJob({ resources, docker, token: config.executorToken, hordeId: config.hordeId, cleanupImage: config.cleanupImage, settleTimeoutMs, signal });
  const rootObserver: ExecutorRootObserver = {
    finalForwarded: (messageType) => metrics.finalMessages.add(1, { message_type: messageType }),
    finalRefused: (messageType) => metrics.finalMessagesRefused.add(1, { message_type: messageType }),
    finalUndelivered: (messageType) => metrics.finalMessagesUndelivered.add(1, { message_type: messageType }),
    genericErrorSuppressed: () => metrics.genericErrorsSuppressed.add(1),
    log: (level, msg, fields) => logger.log(level, msg, fields),
  };
  const url = executorInterfaceUrl(config.minerAddress, config.executorToken);
  const logic = executorRootMachine.provide({
    actors: {
      minerLink: wsTransportMachine,
      jobDriver: driverLogic,
      sweep: fromPromise(({ signal }) => sweep(signal)),
    },
  });
  const actor = createActor(logic, {
    input: {
      settings: {
        finalDeliveryGraceMs: config.finalDeliveryGraceMs,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
        linkCloseTimeoutMs: DEFAULT_CLOSE_TIMEOUT_MS + 1_000,
        maxGenericErrorReplies: MAX_GENERIC_ERROR_REPLIES,
      },
      link: {
        url,
        codec: executorLinkCodec,
        headers: injectTraceHeaders({}, trace.setSpan(parentContext, observer.jobSpan)),
        options: {
          reconnectBaseMs: MINER_LINK_RECONNECT_BASE_MS,
          reconnectCapMs: MINER_LINK_RECONNECT_CAP_MS,
          connectTimeoutMs: MINER_LINK_CONNECT_TIMEOUT_MS,
        },
      },
      driver: {
        settings: {
          startupTimeLimitMs: config.startupTimeLimitMs,
          imagePullTimeoutMs: config.imagePullTimeoutMs,
          executionReportReserveMs: EXECUTION_REPORT_RESERVE_MS,
          killGraceMs: EXECUTION_KILL_GRACE_MS,
          cleanupTimeoutMs: CLEANUP_TIMEOUT_MS,
          gpuEnabled: config.gpu,
        },
        clock: { nowMs: () => performance.now() },
        ...(jobUuidHint === undefined ? {} : { jobUuidHint }),
        observer,
      },
      observer: rootObserver,
    },
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });
  return {
    actor,
    resources,
    url,
    emergencySweep: async () => {
      const report = await sweep(new AbortController().signal);
      if (report.problems.length > 0) logger.error('emergency sweep left problems', { problems: report.problems });
    },
  };
}

export type { ExecutorExit };
