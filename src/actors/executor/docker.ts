import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Dockerode from 'dockerode';
import { toError } from '../../util/errors';
import { linkedController, throwIfAborted } from './abort';
import {
  CONTAINER_REMOVE_TIMEOUT_MS,
  DEFAULT_DOCKER_SOCKET_PATH,
  IMAGE_PULL_TIMEOUT_MS,
  LABEL_HORDE_ID,
  LABEL_JOB_UUID,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_TOKEN,
  LOG_DRAIN_TIMEOUT_MS,
} from './defaults';
import {
  ContainerStartError,
  ExecutionTimeoutError,
  ExecutorAbortedError,
  ImageMissingError,
  ImagePullError,
  type CapturedOutput,
} from './errors';
import { DockerStreamDemuxer, LogSink } from './logCapture';
import { executorMetrics, type ExecutorMetrics } from './metrics';
import { withDefaultTag } from './wire';

/** When to pull a job image: every time, only when absent, or never (absent → `executor.image_missing`). */
export type ImagePullPolicy = 'always' | 'if-missing' | 'never';

/** The labels that tie a container to its Horde process and job; `horde.managed=true` is always added. */
export interface JobContainerLabels {
  readonly hordeId: string;
  readonly jobUuid: string;
  readonly token: string;
  /** More labels (the owning executor's host and PID, for the stale sweep); they cannot override the ones above. */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface RunJobContainerInput {
  readonly image: string;
  /** Command; empty or absent runs the image's default. */
  readonly cmd?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Host folder mounted read-write at `/volume`. */
  readonly volumeDir: string;
  /** Host folder mounted read-write at `/output`. */
  readonly outputDir: string;
  /** Host folder mounted at the job's `artifacts_dir` (an absolute container path), when the job has one. */
  readonly artifacts?: { readonly hostDir: string; readonly containerDir: string } | null;
  /** Host folder mounted at `/specs` (machine specs), when present. */
  readonly specsDir?: string | null;
  readonly memoryBytes?: number;
  readonly nanoCpus?: number;
  readonly labels: JobContainerLabels;
  /**
   * Expose all GPUs (`Runtime: nvidia` + `DeviceRequests [{Count: -1, Capabilities: [['gpu']]}]`, upstream's
   * `nvidia_all` preset). Off by default; this machine has no GPU, so only the create options are tested.
   */
  readonly gpu?: boolean;
  /** The container is killed when it runs longer than this (→ `executor.execution_timeout`). */
  readonly deadlineMs: number;
  /** Full copies of the streams are written here while the job runs. */
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Container name (upstream: `ch-{token}-job`); the engine picks one when absent. */
  readonly name?: string;
  readonly signal: AbortSignal;
  /**
   * When given, the container's removal is not awaited: it is handed here (a promise that never rejects) and the run
   * resolves as soon as the output is in, so that the result is reported without waiting for the engine's removal.
   * The caller must await it before its own cleanup. Absent: the run resolves after the removal.
   */
  readonly deferRemoval?: (removal: Promise<void>) => void;
}

export interface JobContainerResult extends CapturedOutput {
  readonly exitCode: number;
  /** Full sizes of the streams (the files at stdoutPath/stderrPath). */
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  readonly durationMs: number;
}

export interface EnsureImageInput {
  readonly image: string;
  readonly policy: ImagePullPolicy;
  readonly timeoutMs?: number;
  readonly signal: AbortSignal;
}

export interface DockerRuntimeOptions {
  /** An existing client; otherwise one is made from `engine`. */
  readonly docker?: Dockerode;
  /** How to reach the engine (dockerode options: socketPath, or host/port/protocol, ssh…). Default: the local socket. */
  readonly engine?: Dockerode.DockerOptions;
  readonly metrics?: ExecutorMetrics;
  readonly logDrainTimeoutMs?: number;
  readonly removeTimeoutMs?: number;
  /**
   * Told about a container that could not be removed (it keeps its labels, so the next
   * `removeStaleJobContainers` finds it). Default: a process warning.
   */
  readonly onCleanupError?: (error: Error, containerId: string) => void;
}

/** The container resource manager a job driver invokes (each method is a `fromPromise` body). */
export interface DockerRuntime {
  readonly docker: Dockerode;
  /** Removes every container labelled `horde.managed=true` and `horde.id=<hordeId>` (leftovers of a crashed run). */
  removeStaleJobContainers(input: { readonly hordeId: string; readonly signal: AbortSignal }): Promise<{ removed: string[] }>;
  /** Makes the image present according to the policy. */
  ensureImage(input: EnsureImageInput): Promise<{ image: string; pulled: boolean }>;
  /** Runs one job container to its end; always removes it. */
  runJobContainer(input: RunJobContainerInput): Promise<JobContainerResult>;
}

/** The `horde.*` labels of a job container. */
export function jobContainerLabels(labels: JobContainerLabels): Record<string, string> {
  return {
    ...labels.extra,
    [LABEL_MANAGED]: 'true',
    [LABEL_HORDE_ID]: labels.hordeId,
    [LABEL_JOB_UUID]: labels.jobUuid,
    [LABEL_TOKEN]: labels.token,
    [LABEL_ROLE]: 'job',
  };
}

/**
 * The engine's create options for a job container. Pure, so the GPU branch (not runnable here) is tested.
 * Mounts use the structured API rather than `Binds` strings, so that a customer-chosen `artifacts_dir` containing
 * `:` cannot smuggle in a mount mode or a second path.
 */
export function buildJobContainerSpec(input: Omit<RunJobContainerInput, 'signal' | 'deadlineMs' | 'stdoutPath' | 'stderrPath'>): Dockerode.ContainerCreateOptions {
  const mounts: Dockerode.MountSettings[] = [
    { Type: 'bind', Source: input.volumeDir, Target: '/volume', ReadOnly: false },
    { Type: 'bind', Source: input.outputDir, Target: '/output', ReadOnly: false },
  ];
  if (input.specsDir) mounts.push({ Type: 'bind', Source: input.specsDir, Target: '/specs', ReadOnly: false });
  if (input.artifacts) {
    if (!input.artifacts.containerDir.startsWith('/')) {
      throw new ContainerStartError(`artifacts_dir must be an absolute path, got ${JSON.stringify(input.artifacts.containerDir)}`);
    }
    mounts.push({ Type: 'bind', Source: input.artifacts.hostDir, Target: input.artifacts.containerDir, ReadOnly: false });
  }
  const hostConfig: Dockerode.HostConfig = {
    Mounts: mounts,
    NetworkMode: 'none',
    AutoRemove: false,
    // Output is captured through attach; a log driver would keep a second, unbounded copy on the engine's disk.
    LogConfig: { Type: 'none', Config: {} },
  };
  if (input.memoryBytes !== undefined) hostConfig.Memory = input.memoryBytes;
  if (input.nanoCpus !== undefined) hostConfig.NanoCpus = input.nanoCpus;
  if (input.gpu === true) {
    hostConfig.Runtime = 'nvidia';
    hostConfig.DeviceRequests = [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }];
  }
  const spec: Dockerode.ContainerCreateOptions = {
    Image: withDefaultTag(input.image),
    Env: Object.entries(input.env ?? {}).map(([key, value]) => `${key}=${value}`),
    Labels: jobContainerLabels(input.labels),
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: hostConfig,
  };
  if (input.cmd && input.cmd.length > 0) spec.Cmd = [...input.cmd];
  if (input.name) spec.name = input.name;
  return spec;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Creates a dockerode client for an engine address (the local socket by default). */
export function createDockerClient(engine: Dockerode.DockerOptions = { socketPath: DEFAULT_DOCKER_SOCKET_PATH }): Dockerode {
  return new Dockerode(engine);
}

type ExitRace = { kind: 'exited'; exitCode: number } | { kind: 'deadline' } | { kind: 'aborted' };

/**
 * Builds the docker runtime over one engine.
 *
 * @example
 * ```ts
 * const runtime = createDockerRuntime();               // /var/run/docker.sock
 * const remote = createDockerRuntime({ engine: { host: '10.0.0.5', port: 2376, protocol: 'https' } });
 * const result = await runtime.runJobContainer({ image: 'horde-testjob:local', cmd: ['echo', 'hi'], ...dirs,
 *   labels: { hordeId, jobUuid, token }, deadlineMs: 60_000, stdoutPath, stderrPath, signal });
 * ```
 */
export function createDockerRuntime(options: DockerRuntimeOptions = {}): DockerRuntime {
  const docker = options.docker ?? createDockerClient(options.engine);
  const metrics = options.metrics ?? executorMetrics();
  const logDrainTimeoutMs = options.logDrainTimeoutMs ?? LOG_DRAIN_TIMEOUT_MS;
  const removeTimeoutMs = options.removeTimeoutMs ?? CONTAINER_REMOVE_TIMEOUT_MS;
  const onCleanupError =
    options.onCleanupError ??
    ((error: Error, containerId: string) => process.emitWarning(`container ${containerId} not removed: ${error.message}`, 'HordeCleanupWarning'));

  /** Force-removes a container, bounded in time and independent of the (maybe aborted) caller's signal. */
  async function removeContainer(container: Dockerode.Container): Promise<void> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), removeTimeoutMs);
    try {
      await container.remove({ force: true, v: true, abortSignal: timeout.signal });
    } catch (error) {
      if (statusCode(error) === 404) return;
      metrics.containerRemoveFailures.add(1);
      onCleanupError(toError(error), container.id);
    } finally {
      clearTimeout(timer);
    }
  }

  async function removeStaleJobContainers(input: { hordeId: string; signal: AbortSignal }): Promise<{ removed: string[] }> {
    throwIfAborted(input.signal, 'stale container cleanup');
    const stale = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_HORDE_ID}=${input.hordeId}`] },
      abortSignal: input.signal,
    });
    const removed: string[] = [];
    for (const info of stale) {
      throwIfAborted(input.signal, 'stale container cleanup');
      try {
        await docker.getContainer(info.Id).remove({ force: true, v: true, abortSignal: input.signal });
        removed.push(info.Id);
      } catch (error) {
        if (statusCode(error) !== 404) throw error;
      }
    }
    return { removed };
  }

  async function imagePresent(image: string, signal: AbortSignal): Promise<boolean> {
    try {
      await docker.getImage(image).inspect({ abortSignal: signal } as object);
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
  }

  async function pullImage(image: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const { controller, dispose } = linkedController(signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    // The last lines of progress, kept for the error report (bounded: a pull prints one line per layer update).
    const progress: string[] = [];
    let engineError: string | undefined;
    try {
      const stream = (await docker.pull(image, { abortSignal: controller.signal })) as Readable;
      let pending = '';
      const onLine = (line: string): void => {
        if (line.trim() === '') return;
        progress.push(line);
        if (progress.length > 20) progress.shift();
        try {
          const event = JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } };
          if (event.error !== undefined) {
            const detail = event.errorDetail?.message ?? event.error;
            engineError ??= typeof detail === 'string' ? detail : JSON.stringify(detail);
          }
        } catch {
          // A line that is not JSON is kept as progress text; the engine's own error events are JSON.
        }
      };
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          onLine(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
        }
      }
      onLine(pending);
    } catch (error) {
      if (signal.aborted) throw new ExecutorAbortedError(`pulling ${image}`, { cause: signal.reason });
      if (timedOut) throw new ImagePullError(image, `timed out after ${timeoutMs} ms`, progress, { cause: error });
      throw new ImagePullError(image, toError(error).message, progress, { cause: error });
    } finally {
      clearTimeout(timer);
      dispose();
    }
    if (engineError !== undefined) throw new ImagePullError(image, engineError, progress);
  }

  async function ensureImage(input: EnsureImageInput): Promise<{ image: string; pulled: boolean }> {
    throwIfAborted(input.signal, 'ensureImage');
    const image = withDefaultTag(input.image);
    if (input.policy !== 'always' && (await imagePresent(image, input.signal))) return { image, pulled: false };
    if (input.policy === 'never') throw new ImageMissingError(image);
    await pullImage(image, input.timeoutMs ?? IMAGE_PULL_TIMEOUT_MS, input.signal);
    if (!(await imagePresent(image, input.signal))) throw new ImagePullError(image, 'the engine reported success but the image is absent', []);
    return { image, pulled: true };
  }

  async function runJobContainer(input: RunJobContainerInput): Promise<JobContainerResult> {
    throwIfAborted(input.signal, 'job container');
    const spec = buildJobContainerSpec(input);
    const startedAt = performance.now();
    const stdoutSink = new LogSink(input.stdoutPath);
    const stderrSink = new LogSink(input.stderrPath);
    // Aborts the engine calls that only make sense while we wait (wait, attach) once we are done.
    const calls = new AbortController();
    let container: Dockerode.Container | undefined;
    let outcome = 'start_failed';
    let deadlineTimer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      try {
        // Deliberately not abortable mid-flight: the engine could finish creating a container whose id we never learn.
        container = await docker.createContainer(spec);
      } catch (error) {
        throw new ContainerStartError(`creating the job container failed: ${toError(error).message}`, { cause: error });
      }
      let attached: Readable;
      try {
        // Attached before start, so that not a byte of output is missed.
        attached = (await container.attach({ stream: true, stdout: true, stderr: true, abortSignal: calls.signal })) as unknown as Readable;
      } catch (error) {
        throw new ContainerStartError(`attaching to the job container failed: ${toError(error).message}`, { cause: error });
      }
      const drained = pipeline(attached, new DockerStreamDemuxer(stdoutSink, stderrSink)).then(
        () => undefined,
        (error: unknown) => (calls.signal.aborted ? undefined : toError(error)),
      );
      throwIfAborted(input.signal, 'job container');
      try {
        await container.start();
      } catch (error) {
        throw new ContainerStartError(`starting the job container failed: ${toError(error).message}`, { cause: error });
      }

      const running = container;
      const ended = await new Promise<ExitRace>((resolve, reject) => {
        deadlineTimer = setTimeout(() => resolve({ kind: 'deadline' }), input.deadlineMs);
        onAbort = () => resolve({ kind: 'aborted' });
        if (input.signal.aborted) onAbort();
        else input.signal.addEventListener('abort', onAbort, { once: true });
        running.wait({ abortSignal: calls.signal }).then(
          (status: { StatusCode: number }) => resolve({ kind: 'exited', exitCode: status.StatusCode }),
          reject,
        );
      });
      clearTimeout(deadlineTimer);
      if (ended.kind !== 'exited') {
        try {
          await running.kill();
        } catch (error) {
          // 404/409: it exited (or vanished) on its own between the timer and the kill.
          const code = statusCode(error);
          if (code !== 404 && code !== 409) throw error;
        }
      }
      // Output still in flight when the process ended arrives shortly after; wait for it, but not forever.
      const drainTimer = new Promise<'timeout'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), logDrainTimeoutMs);
        void drained.finally(() => clearTimeout(timer));
      });
      const drainOutcome = await Promise.race([drained, drainTimer]);
      if (drainOutcome === 'timeout') attached.destroy();
      else if (drainOutcome instanceof Error) throw drainOutcome;
      await Promise.all([stdoutSink.close(), stderrSink.close()]);

      const stdout = stdoutSink.capture.wireText();
      const stderr = stderrSink.capture.wireText();
      metrics.logCaptureDroppedBytes.add(stdoutSink.capture.droppedBytes + stderrSink.capture.droppedBytes);
      const output: CapturedOutput = {
        stdout: stdout.text,
        stderr: stderr.text,
        truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
      };
      outcome = ended.kind === 'exited' ? 'exited' : ended.kind === 'deadline' ? 'timeout' : 'aborted';
      if (ended.kind === 'deadline') throw new ExecutionTimeoutError(input.deadlineMs, output);
      if (ended.kind === 'aborted') throw new ExecutorAbortedError('job container', { cause: input.signal.reason });
      return {
        ...output,
        exitCode: ended.exitCode,
        stdoutBytes: stdoutSink.capture.totalBytes,
        stderrBytes: stderrSink.capture.totalBytes,
        durationMs: performance.now() - startedAt,
      };
    } finally {
      clearTimeout(deadlineTimer);
      if (onAbort) input.signal.removeEventListener('abort', onAbort);
      calls.abort();
      if (container) {
        const removal = removeContainer(container);
        if (input.deferRemoval === undefined) await removal;
        else input.deferRemoval(removal);
      }
      await Promise.allSettled([stdoutSink.close(), stderrSink.close()]);
      metrics.containerRuns.add(1, { outcome });
      metrics.containerRunDurationMs.record(performance.now() - startedAt);
    }
  }

  return { docker, removeStaleJobContainers, ensureImage, runJobContainer };
}
