import { HordeError } from '../../util/errors';

/**
 * Errors of the executor's effect modules. Each has a stable dotted code; `executorFailureFor(code)` maps a code to
 * the upstream failure a job driver reports (`V0JobFailedRequest.reason` or `V0HordeFailedRequest.reason`).
 */

/** Captured output of a job container, already truncated for the wire the way upstream truncates it. */
export interface CapturedOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
}

/** The image is not present locally and the pull policy is `never`. */
export class ImageMissingError extends HordeError {
  constructor(readonly image: string) {
    super('executor.image_missing', `docker image ${image} is not present and the pull policy is "never"`);
  }
}

/** Pulling the image failed or timed out; `progress` holds the engine's last progress lines. */
export class ImagePullError extends HordeError {
  constructor(
    readonly image: string,
    message: string,
    readonly progress: readonly string[],
    options?: { cause?: unknown },
  ) {
    super('executor.image_pull_failed', `failed to pull docker image ${image}: ${message}`, options);
  }
}

/** The engine refused to create or start the job container (bad image config, missing runtime, engine down). */
export class ContainerStartError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('executor.container_start_failed', message, options);
  }
}

/** The job container outlived its deadline and was killed. Carries what it printed until then. */
export class ExecutionTimeoutError extends HordeError {
  constructor(
    readonly deadlineMs: number,
    readonly output: CapturedOutput,
  ) {
    super('executor.execution_timeout', `job container did not finish within ${deadlineMs} ms and was killed`);
  }
}

/** The caller aborted the operation (the job driver stopped); any container was killed and removed. */
export class ExecutorAbortedError extends HordeError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('executor.aborted', `${what} aborted`, options);
  }
}

/** A volume type Horde cannot download here (Hugging Face: no hub is reachable from this deployment). */
export class VolumeUnsupportedError extends HordeError {
  constructor(volumeType: string, why: string) {
    super('executor.volume_unsupported', `volume type ${volumeType} is not supported: ${why}`);
  }
}

/** A volume description that cannot be honoured (nested multi_volume, relative_path escaping the volume dir). */
export class VolumeInvalidError extends HordeError {
  constructor(message: string) {
    super('executor.volume_invalid', message);
  }
}

/** A zip entry would land outside the target folder (`..`, absolute path, symlink): nothing is extracted. */
export class VolumeUnsafeZipError extends HordeError {
  constructor(readonly entryName: string, why: string) {
    super('executor.volume_unsafe_zip', `refusing zip entry ${JSON.stringify(entryName)}: ${why}`);
  }
}

/** The volume is not a readable zip archive. */
export class VolumeBadZipError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('executor.volume_bad_zip', `volume is not a valid zip: ${message}`, options);
  }
}

/** The volume (download or extracted zip) exceeds its size limit. */
export class VolumeTooLargeError extends HordeError {
  constructor(limitBytes: number, what: string) {
    super('executor.volume_too_large', `${what} exceeds the limit of ${limitBytes} bytes`);
  }
}

/** The download failed after its retries (unreachable host, HTTP error, broken transfers). */
export class VolumeDownloadError extends HordeError {
  constructor(
    readonly url: string,
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super('executor.volume_download_failed', `download of ${redactUrl(url)} failed after ${attempts} attempt(s): ${message}`, options);
  }
}

/** An upload failed after its retries, or was answered with a non-retryable status. */
export class UploadFailedError extends HordeError {
  constructor(
    readonly url: string,
    message: string,
    readonly attempts: number,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('executor.upload_failed', `upload to ${redactUrl(url)} failed after ${attempts} attempt(s): ${message}`, options);
  }
}

/** The output cannot be uploaded as asked: too many files, too large, a single file missing. */
export class UploadRejectedError extends HordeError {
  constructor(message: string) {
    super('executor.upload_rejected', message);
  }
}

/** Too many callers are already waiting for a download or upload slot. */
export class ConcurrencyQueueFullError extends HordeError {
  constructor(what: string, maxWaiters: number) {
    super('executor.concurrency_queue_full', `${what}: more than ${maxWaiters} callers waiting for a slot`);
  }
}

/** A job temp dir could not be removed, even with the cleanup container. */
export class TempDirRemoveError extends HordeError {
  constructor(dir: string, message: string, options?: { cause?: unknown }) {
    super('executor.temp_dir_remove_failed', `could not remove ${dir}: ${message}`, options);
  }
}

/** How a job driver reports an error code upstream. `none`: nothing to report (an abort, a cleanup problem). */
export type ExecutorFailure =
  | { readonly kind: 'job_failed'; readonly reason: 'timeout' | 'download_failed' | 'upload_failed' | 'nonzero_return_code' }
  | { readonly kind: 'horde_failed'; readonly reason: 'generic_error' | 'unhandled_exception' }
  | { readonly kind: 'none' };

/**
 * Upstream's classification, code by code: volume problems are `JobError(download_failed)` (the customer's volume),
 * upload problems `JobError(upload_failed)`, a killed container `JobError(timeout)`, and image/engine problems are
 * the network's fault (`HordeError`, default reason `generic_error`).
 */
export const EXECUTOR_FAILURES: Readonly<Record<string, ExecutorFailure>> = {
  'executor.image_missing': { kind: 'horde_failed', reason: 'generic_error' },
  'executor.image_pull_failed': { kind: 'horde_failed', reason: 'generic_error' },
  'executor.container_start_failed': { kind: 'horde_failed', reason: 'generic_error' },
  'executor.execution_timeout': { kind: 'job_failed', reason: 'timeout' },
  'executor.volume_unsupported': { kind: 'job_failed', reason: 'download_failed' },
  'executor.volume_invalid': { kind: 'job_failed', reason: 'download_failed' },
  'executor.volume_unsafe_zip': { kind: 'job_failed', reason: 'download_failed' },
  'executor.volume_bad_zip': { kind: 'job_failed', reason: 'download_failed' },
  'executor.volume_too_large': { kind: 'job_failed', reason: 'download_failed' },
  'executor.volume_download_failed': { kind: 'job_failed', reason: 'download_failed' },
  'executor.upload_failed': { kind: 'job_failed', reason: 'upload_failed' },
  'executor.upload_rejected': { kind: 'job_failed', reason: 'upload_failed' },
  'executor.concurrency_queue_full': { kind: 'horde_failed', reason: 'generic_error' },
  'executor.aborted': { kind: 'none' },
  'executor.temp_dir_remove_failed': { kind: 'none' },
};

/**
 * The upstream failure for an error code; codes this module does not own are unhandled exceptions, as upstream's
 * `HordeError.wrap_unhandled` makes them.
 *
 * @example
 * ```ts
 * executorFailureFor('executor.volume_bad_zip'); // { kind: 'job_failed', reason: 'download_failed' }
 * ```
 */
export function executorFailureFor(code: string): ExecutorFailure {
  return EXECUTOR_FAILURES[code] ?? { kind: 'horde_failed', reason: 'unhandled_exception' };
}

/** Presigned URLs carry credentials in their query: error messages keep only origin and path. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '<invalid url>';
  }
}
