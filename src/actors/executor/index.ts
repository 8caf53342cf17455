/**
 * The executor's effect modules: the building blocks a job-driver machine invokes as `fromPromise` actors. Each
 * takes plain typed input plus an AbortSignal and returns a result or throws a `HordeError` with a stable code
 * (`executorFailureFor(code)` maps it to the upstream failure reason).
 */
export * from './defaults';
export * from './errors';
export type * from './types';
export { createExecutorMetrics, executorMetrics, type ExecutorMetrics } from './metrics';
export { Semaphore } from './semaphore';
export { abortableSleep, type Sleep } from './abort';
export {
  codePointLength,
  toUploadResults,
  truncateLikeUpstream,
  UPSTREAM_TRUNCATION,
  withDefaultTag,
  type TruncationLimits,
} from './wire';
export { downloadRetryDelayMs, isRetryableStatus, uploadRetryDelayMs } from './retry';
export { HeadTailCapture } from './logCapture';
export {
  buildJobContainerSpec,
  createDockerClient,
  createDockerRuntime,
  jobContainerLabels,
  type DockerRuntime,
  type DockerRuntimeOptions,
  type EnsureImageInput,
  type ImagePullPolicy,
  type JobContainerLabels,
  type JobContainerResult,
  type RunJobContainerInput,
} from './docker';
export {
  downloadSlots,
  downloadVolume,
  flattenVolume,
  volumeDestination,
  type DownloadVolumeInput,
  type DownloadVolumeResult,
  type VolumeDownloadOptions,
} from './volumes';
export {
  uploadOutput,
  uploadSlots,
  writeStdStreamsToOutput,
  type UploadOptions,
  type UploadOutputInput,
  type UploadOutputResult,
} from './uploads';
export { collectArtifacts, type CollectArtifactsInput, type CollectArtifactsResult, type SkippedArtifact } from './artifacts';
export {
  createJobTempDir,
  makeTreeWorldWritable,
  removeTempDirRootSafe,
  type JobTempDir,
  type RemoveTempDirInput,
} from './tempDirs';
export { extractZip, planZipEntry, zipDirectory, type ZipSource } from './zip';
// The executor role: the job driver's effects, the root actor, settings (docs/executor.md).
export { createJobDriverLogic, type JobDriverDeps } from './jobDriver';
export { JobResources, cleanupJob, type CleanupJobInput } from './jobResources';
export { collectMachineSpecs } from './machineSpecs';
export {
  isPidAlive,
  removeAbandonedContainers,
  removeTokenContainers,
  staleVerdict,
  type ContainerSummary,
  type StaleVerdict,
  type SweepingExecutor,
} from './staleContainers';
export { createJobDriverMetrics, createJobObserver, type JobDriverMetrics, type JobObserverOptions } from './jobMetrics';
export {
  executorRootMachine,
  type ExecutorExit,
  type ExecutorRootEvent,
  type ExecutorRootInput,
  type ExecutorRootObserver,
  type ExecutorRootSettings,
} from './executorRoot.machine';
export { createExecutorRoot, executorInterfaceUrl, executorLinkCodec, type ExecutorRoot, type ExecutorRootOptions } from './executorRoot';
export { executorSettings, type ExecutorConfig } from './settings';
