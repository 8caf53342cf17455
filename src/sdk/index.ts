/**
 * The Horde SDK: a client of the facilitator's REST API for users who submit jobs.
 *
 * @example
 * ```ts
 * import { HordeClient, jobResult } from 'horde/sdk';
 * const client = new HordeClient({ url: 'http://127.0.0.1:9000', hotkey });
 * const job = await client.runUntilComplete({ executorClass: 'always_on.test', image: 'alpine', command: ['echo', 'hi'] });
 * console.log(jobResult(job).stdout);
 * ```
 */
export {
  HordeClient,
  jobResult,
  lastStatusOf,
  type FetchLike,
  type FollowOptions,
  type HordeClientOptions,
  type JobFilter,
  type JobResult,
  type RunOptions,
  type WaitOptions,
} from './client';
export {
  AbortedError,
  AuthFailedError,
  HttpError,
  JobFailedError,
  JobHordeFailedError,
  JobRejectedError,
  JobSpecError,
  JobTimeoutError,
  JobUnsuccessfulError,
  MalformedResponseError,
  NetworkError,
  NotFoundError,
  jobFailureReason,
  jobUnsuccessfulError,
  type FinishedJobView,
} from './errors';
export { createJobBody, zipEntries, JOB_OUTPUT_ROOT, JOB_VOLUME_ROOT, type JobSpec, type UploadSpec, type VolumeSpec } from './jobSpec';
export * from './defaults';
export {
  FACILITATOR_API_PATHS,
  JOB_STATUS_DISPLAY,
  displayStatus,
  jobEventsPath,
  jobPath,
  type CreateJobBodyInput,
  type JobJson,
  type JobsPage,
  type StatusHistoryEntry,
  type RequestableExecutorClass,
} from './facilitatorApi';
export { SseParser, type ServerSentEvent } from './sse';
export { httpRetryDelayMs, isRetryableOutcome } from './retryPolicy';
