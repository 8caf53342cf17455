import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type Dockerode from 'dockerode';
import { fromPromise } from 'xstate';
import {
  jobDriverMachine,
  type CleanupInput,
  type CleanupReport,
  type DownloadEffectInput,
  type EnsureImageEffectInput,
  type FinishOutputsInput,
  type FinishOutputsOutput,
  type PrepareWorkspaceInput,
  type RunJobEffectInput,
  type RunJobEffectOutput,
} from '../../machines/jobDriver.machine';
import type { MachineSpecs } from '../../protocol';
import type { Clock } from '../../util/clock';
import { collectArtifacts } from './artifacts';
import { LABEL_EXECUTOR_HOST, LABEL_EXECUTOR_PID } from './defaults';
import type { DockerRuntime, ImagePullPolicy } from './docker';
import { cleanupJob, type JobResources } from './jobResources';
import { collectMachineSpecs } from './machineSpecs';
import { isPidAlive, removeAbandonedContainers } from './staleContainers';
import { createJobTempDir, makeTreeWorldWritable, type JobTempDir } from './tempDirs';
import { uploadOutput, writeStdStreamsToOutput, type UploadOptions } from './uploads';
import { downloadVolume, type VolumeDownloadOptions } from './volumes';

/** What the driver's effects need from the process: the engine, this run's identity and its limits. */
export interface JobDriverDeps {
  readonly docker: Dockerode;
  readonly runtime: DockerRuntime;
  /** Shared with the executor root, whose sweep uses it when the driver dies. */
  readonly resources: JobResources;
  readonly hordeId: string;
  readonly token: string;
  readonly pullPolicy: ImagePullPolicy;
  /** Upper bound of a pull made at execution time (an image other than the initial request's). */
  readonly imagePullTimeoutMs: number;
  /** Parent folder of job temp dirs (default: the OS temp folder). */
  readonly workDir?: string;
  /** Present-locally image with `sh` and `rm`, for removing root-owned files. */
  readonly cleanupImage: string;
  readonly memoryBytes?: number;
  readonly nanoCpus?: number;
  /** Wall clock (container ages in the stale sweep are wall-clock). */
  readonly wallClock: Clock;
  readonly hostName?: string;
  readonly pid?: number;
  readonly staleContainerAgeMs: number;
  /**
   * This process swept stale containers before it had a job (a standby does it while it waits): the job's startup
   * skips the sweep. Absent or false: the sweep runs in the startup stage, as upstream's does.
   */
  readonly staleSweepDone?: boolean;
  readonly settleTimeoutMs: number;
  readonly volumeOptions?: VolumeDownloadOptions;
  readonly uploadOptions?: UploadOptions;
}

/** Docker container names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; an exotic token just gets an engine-chosen name. */
function containerName(token: string): string | undefined {
  const name = `ch-${token}-job`;
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) ? name : undefined;
}

function fileSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9-]/g, '_').slice(0, 64);
}

/**
 * The job driver machine with its real effects: docker through `DockerRuntime`, downloads, uploads and temp dirs
 * through the effect modules of this folder. Every effect is registered with `deps.resources`, so the cleanup can
 * wait for effects the machine abandoned (a stopped actor's promise keeps running) before removing what they made.
 *
 * @example
 * ```ts
 * const resources = new JobResources();
 * const logic = createJobDriverLogic({ docker, runtime: createDockerRuntime({ docker }), resources, hordeId, token,
 *   pullPolicy: 'if-missing', imagePullTimeoutMs: 300_000, cleanupImage: 'alpine:3.19', wallClock: systemClock,
 *   staleContainerAgeMs: STALE_JOB_CONTAINER_AGE_MS, settleTimeoutMs: EFFECT_SETTLE_TIMEOUT_MS });
 * const driver = createActor(logic, { input: { settings, clock, jobUuidHint } });
 * ```
 */
export function createJobDriverLogic(deps: JobDriverDeps) {
  const { resources, runtime } = deps;
  const hostName = deps.hostName ?? os.hostname();
  const pid = deps.pid ?? process.pid;

  return jobDriverMachine.provide({
    actors: {
      collectSpecs: fromPromise<MachineSpecs, void>(() => resources.track(collectMachineSpecs({ diskPath: deps.workDir ?? os.tmpdir() }))),

      prepareWorkspace: fromPromise<JobTempDir, PrepareWorkspaceInput>(({ input }) =>
        resources.track(
          // Registered inside the tracked chain: a temp dir made after the driver moved on is still removed.
          createJobTempDir({ ...(deps.workDir === undefined ? {} : { parentDir: deps.workDir }), prefix: `horde-job-${fileSafe(input.jobUuid)}-` }).then(
            (dirs) => {
              resources.addWorkspace(dirs.root);
              return dirs;
            },
          ),
        ),
      ),

      removeStaleContainers: fromPromise<{ removed: number }, void>(({ signal }) =>
        deps.staleSweepDone === true
          ? Promise.resolve({ removed: 0 })
          : resources.track(
          removeAbandonedContainers({
            docker: deps.docker,
            hordeId: deps.hordeId,
            self: {
              hostName,
              token: deps.token,
              nowMs: deps.wallClock.nowMs(),
              maxAgeMs: deps.staleContainerAgeMs,
              isPidAlive,
            },
            signal,
          }).then((result) => ({ removed: result.removed.length })),
        ),
      ),

      ensureImage: fromPromise<{ image: string; pulled: boolean }, EnsureImageEffectInput>(({ input, signal }) =>
        resources.track(runtime.ensureImage({ image: input.image, policy: deps.pullPolicy, timeoutMs: input.timeoutMs, signal })),
      ),

      downloadVolume: fromPromise<{ files: number }, DownloadEffectInput>(({ input, signal }) =>
        resources.track(
          (async () => {
            const files =
              input.volume === null
                ? 0
                : (
                    await downloadVolume({
                      volume: input.volume,
                      targetDir: input.workspace.volumeDir,
                      signal,
                      ...(deps.volumeOptions === undefined ? {} : { options: deps.volumeOptions }),
                    })
                  ).files;
            // Upstream's `chmod -R 777`: a job image running as a non-root user must write to its mounts.
            await makeTreeWorldWritable(input.workspace.root);
            return { files };
          })(),
        ),
      ),

      runJob: fromPromise<RunJobEffectOutput, RunJobEffectInput>(({ input, signal }) =>
        resources.track(
          (async () => {
            const startedAt = performance.now();
            if (input.ensureImage) {
              await runtime.ensureImage({
                image: input.image,
                policy: deps.pullPolicy,
                timeoutMs: Math.max(1, Math.min(deps.imagePullTimeoutMs, input.deadlineMs)),
                signal,
              });
            }
            const name = containerName(deps.token);
            const result = await runtime.runJobContainer({
              image: input.image,
              cmd: input.cmd,
              env: input.env,
              volumeDir: input.workspace.volumeDir,
              outputDir: input.workspace.outputDir,
              specsDir: input.workspace.specsDir,
              artifacts: input.artifactsDir === null ? null : { hostDir: input.workspace.artifactsDir, containerDir: input.artifactsDir },
              ...(deps.memoryBytes === undefined ? {} : { memoryBytes: deps.memoryBytes }),
              ...(deps.nanoCpus === undefined ? {} : { nanoCpus: deps.nanoCpus }),
              labels: {
                hordeId: deps.hordeId,
                jobUuid: input.jobUuid,
                token: deps.token,
                extra: { [LABEL_EXECUTOR_HOST]: hostName, [LABEL_EXECUTOR_PID]: String(pid) },
              },
              gpu: input.gpu,
              deadlineMs: Math.max(1, input.deadlineMs - (performance.now() - startedAt)),
              stdoutPath: input.workspace.stdoutPath,
              stderrPath: input.workspace.stderrPath,
              ...(name === undefined ? {} : { name }),
              signal,
              // Reported before the engine has removed the container; the cleanup waits for the removal.
              deferRemoval: (removal) => void resources.track(removal),
            });
            return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
          })(),
        ),
      ),

      finishOutputs: fromPromise<FinishOutputsOutput, FinishOutputsInput>(({ input, signal }) =>
        resources.track(
          (async () => {
            const { workspace } = input;
            // The copies in /output are for the output upload only (the result message carries the text itself).
            if (input.outputUpload !== null) {
              await writeStdStreamsToOutput({ stdoutPath: workspace.stdoutPath, stderrPath: workspace.stderrPath, outputDir: workspace.outputDir });
            }
            const artifacts =
              input.artifactsDir === null
                ? {}
                : (await collectArtifacts({ hostDir: workspace.artifactsDir, artifactsDir: input.artifactsDir, signal })).artifacts;
            const uploadResults =
              input.outputUpload === null
                ? {}
                : (
                    await uploadOutput({
                      upload: input.outputUpload,
                      outputDir: workspace.outputDir,
                      signal,
                      // Zips are staged inside the temp dir, so the cleanup removes what an aborted upload left.
                      options: { scratchDir: workspace.root, ...deps.uploadOptions },
                    })
                  ).uploadResults;
            return { artifacts, uploadResults };
          })(),
        ),
      ),

      cleanup: fromPromise<CleanupReport, CleanupInput>(({ signal }) =>
        cleanupJob({
          resources,
          docker: deps.docker,
          token: deps.token,
          hordeId: deps.hordeId,
          cleanupImage: deps.cleanupImage,
          settleTimeoutMs: deps.settleTimeoutMs,
          signal,
        }),
      ),
    },
  });
}
