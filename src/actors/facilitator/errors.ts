import { HordeError } from '../../util/errors';

/** A status for a job the store does not know (`job.not_found` on the wire). */
export class JobNotFoundError extends HordeError {
  constructor(readonly uuid: string) {
    super('job.not_found', `Job ${uuid} not found`);
  }
}

/** The job already has this status (`job.integrity_error`: one row per (job, status), as upstream's UNIQUE). */
export class JobStatusDuplicateError extends HordeError {
  constructor(
    readonly uuid: string,
    readonly status: string,
  ) {
    super('job.integrity_error', `Job ${uuid} already has status ${status}`);
  }
}

/** The facilitator's configuration cannot work (bad secret, data dir not writable, …). Lists every problem. */
export class FacilitatorConfigError extends HordeError {
  constructor(readonly problems: readonly string[]) {
    super('facilitator.invalid_config', `invalid facilitator configuration: ${problems.join('; ')}`);
  }
}

/** The job store could not open or migrate its database. */
export class JobStoreError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('facilitator.job_store_failed', message, options);
  }
}
