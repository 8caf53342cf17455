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
  pythonJsonDumps,
  toUploadResults,
  truncateLikeUpstream,
  UPSTREAM_TRUNCATION,
  withDefaultTag,
  type PyJson,
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
