/**
 * What the SDK throws. Every error is a `HordeError` with a stable `sdk.*` code; job outcomes carry the job JSON so
 * callers can read the failure details the validator or miner gave.
 */
import { HordeError } from '../util/errors';

/** The minimal view of a finished job the job errors carry (the full job JSON from the facilitator). */
export interface FinishedJobView {
  readonly uuid: string;
  readonly status_history: ReadonlyArray<{ readonly status: string; readonly metadata?: unknown }>;
}

/** Login refused (bad signature, hotkey not whitelisted) or a request refused with 401/403 after re-authenticating. */
export class AuthFailedError extends HordeError {
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('sdk.auth_failed', message, options);
  }
}

/** The facilitator answered 404 (unknown job, or a job of another user). */
export class NotFoundError extends HordeError {
  constructor(readonly path: string) {
    super('sdk.not_found', `not found: ${path}`);
  }
}

/**
 * Any other unexpected HTTP answer, or 429/5xx after the last retry. `errors` holds the facilitator's field errors
 * (`{"errors": {field: [msg]}}`) when it sent some.
 */
export class HttpError extends HordeError {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly body: string,
    readonly errors?: Readonly<Record<string, readonly string[]>>,
  ) {
    super('sdk.http_error', `HTTP ${status} from ${path}: ${summarise(body)}`);
  }
}

/** The facilitator could not be reached (connection refused, reset, timed out) after the last retry. */
export class NetworkError extends HordeError {
  constructor(path: string, cause: unknown) {
    super('sdk.network_error', `cannot reach the facilitator (${path}): ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** The facilitator answered something that is not the expected JSON shape. */
export class MalformedResponseError extends HordeError {
  constructor(path: string, problem: string) {
    super('sdk.malformed_response', `malformed response from ${path}: ${problem}`);
  }
}

/** A job spec that cannot be turned into a request (missing files, an inline volume too large...). */
export class JobSpecError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sdk.job_spec', message, options);
  }
}

/** The job did not end within the caller's time budget (it may still be running on the horde). */
export class JobTimeoutError extends HordeError {
  constructor(
    readonly jobUuid: string,
    readonly timeoutMs: number,
    readonly lastStatus: string | undefined,
  ) {
    super('sdk.job_timeout', `job ${jobUuid} did not end within ${timeoutMs} ms (last status: ${lastStatus ?? 'none'})`);
  }
}

/** The caller aborted (its AbortSignal fired). */
export class AbortedError extends HordeError {
  constructor(reason?: unknown) {
    super('sdk.aborted', 'aborted by the caller', { cause: reason });
  }
}

/** A job ended in a status other than `completed`. Subclasses say which; `details` is that status's metadata. */
export abstract class JobUnsuccessfulError extends HordeError {
  readonly jobUuid: string;
  readonly status: string;
  readonly details: unknown;

  protected constructor(code: string, readonly job: FinishedJobView) {
    const last = job.status_history[job.status_history.length - 1];
    const status = last?.status ?? 'unknown';
    super(code, `job ${job.uuid} ended ${status}: ${jobFailureReason(job)}`);
    this.jobUuid = job.uuid;
    this.status = status;
    this.details = last?.metadata;
  }
}

/** The job ran and failed (`failed`: non-zero exit, timeout inside the job, bad volume...). */
export class JobFailedError extends JobUnsuccessfulError {
  constructor(job: FinishedJobView) {
    super('sdk.job_failed', job);
  }
}

/** The job was refused (`rejected`: bad signature, no miner for it, miner busy). */
export class JobRejectedError extends JobUnsuccessfulError {
  constructor(job: FinishedJobView) {
    super('sdk.job_rejected', job);
  }
}

/** The horde itself failed the job (`horde_failed`: miner lost, executor spin-up failed, validator restart). */
export class JobHordeFailedError extends JobUnsuccessfulError {
  constructor(job: FinishedJobView) {
    super('sdk.job_horde_failed', job);
  }
}

/** The right error for a job that ended unsuccessfully. */
export function jobUnsuccessfulError(job: FinishedJobView): JobUnsuccessfulError {
  const last = job.status_history[job.status_history.length - 1]?.status;
  if (last === 'rejected') return new JobRejectedError(job);
  if (last === 'horde_failed') return new JobHordeFailedError(job);
  return new JobFailedError(job);
}

/**
 * A one-line human reason for a finished job, read from its last status's metadata (`comment`, then the details'
 * `message`/`reason`), e.g. `"failed: docker pull failed (execution)"`.
 *
 * @example
 * ```ts
 * jobFailureReason(job); // 'rejected (no_miner_for_job): no miner can take this job'
 * ```
 */
export function jobFailureReason(job: FinishedJobView): string {
  const last = job.status_history[job.status_history.length - 1];
  if (last === undefined) return 'no status yet';
  const metadata = (isRecord(last.metadata) ? last.metadata : {});
  const details = [metadata['job_failure_details'], metadata['horde_failure_details'], metadata['job_rejection_details']].find(isRecord);
  const parts: string[] = [];
  const reason = details?.['reason'];
  const stage = details?.['stage'];
  const by = details?.['reported_by'] ?? details?.['rejected_by'];
  const head = [typeof reason === 'string' ? reason : undefined, typeof stage === 'string' ? `stage ${stage}` : undefined, typeof by === 'string' ? `by ${by}` : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
  if (head !== '') parts.push(`(${head})`);
  const message = details?.['message'];
  if (typeof message === 'string' && message !== '') parts.push(message);
  const comment = metadata['comment'];
  if (typeof comment === 'string' && comment !== '' && comment !== message) parts.push(comment);
  return [last.status, ...parts].join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function summarise(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine || '(empty body)';
}
