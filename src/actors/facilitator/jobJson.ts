/**
 * Pure conversions of a stored job: to the `V2JobRequest` sent to validators, and to the REST job JSON.
 */
import type { V2JobRequest } from '../../protocol';
import type { Input } from '../../protocol/schema';
import { displayStatus, type JobJson, type StatusHistoryEntry } from '../../sdk/facilitatorApi';
import type { StatusRecord, StoredJob } from './jobStore';

/** ISO-8601 UTC with milliseconds (`2025-09-01T12:00:00.000Z`). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The `V2JobRequest` (`"type":"job.new"`) of a job. Volumes and uploads are wrapped in `multi_volume` /
 * `multi_upload` when there are any (null otherwise: the validator's SignedFields flatten both to `[]`).
 *
 * @example
 * ```ts
 * connection.send({ type: 'connection.send', message: jobRequestOf(job) });
 * ```
 */
export function jobRequestOf(job: Pick<StoredJob, 'uuid' | 'body' | 'signature'>): Input<typeof V2JobRequest> {
  const b = job.body;
  return {
    signature: job.signature,
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid: job.uuid,
    job_namespace: b.job_namespace,
    executor_class: b.executor_class,
    docker_image: b.docker_image,
    args: b.args,
    env: b.env,
    use_gpu: b.use_gpu,
    volume: b.volumes.length === 0 ? null : { volume_type: 'multi_volume', volumes: b.volumes },
    output_upload: b.uploads.length === 0 ? null : { output_upload_type: 'multi_upload', uploads: b.uploads, system_output: null },
    artifacts_dir: b.artifacts_dir,
    on_trusted_miner: b.on_trusted_miner,
    download_time_limit: b.download_time_limit,
    execution_time_limit: b.execution_time_limit,
    upload_time_limit: b.upload_time_limit,
    streaming_start_time_limit: b.streaming_start_time_limit,
    streaming_details: b.streaming_details,
  };
}

/** One status row as a `status_history` entry / SSE event. */
export function historyEntryOf(record: StatusRecord): StatusHistoryEntry {
  return { status: record.status, metadata: record.metadata, created_at: isoTime(record.createdAtMs) };
}

/**
 * The REST job JSON. `stdout`/`stderr`/`artifacts`/`upload_results` come from the newest status carrying a
 * `miner_response`, the `streaming_server_*` fields from the newest `streaming_details`.
 */
export function jobJsonOf(job: StoredJob): JobJson {
  const last = job.history[job.history.length - 1];
  let result: NonNullable<StatusRecord['metadata']>['miner_response'] = null;
  let streaming: NonNullable<StatusRecord['metadata']>['streaming_details'] = null;
  for (const record of job.history) {
    if (record.metadata?.miner_response != null) result = record.metadata.miner_response;
    if (record.metadata?.streaming_details != null) streaming = record.metadata.streaming_details;
  }
  const b = job.body;
  return {
    uuid: job.uuid,
    executor_class: b.executor_class,
    created_at: isoTime(job.createdAtMs),
    last_update: isoTime(job.lastUpdateMs),
    status: displayStatus(last?.status ?? 'unknown'),
    docker_image: b.docker_image,
    job_namespace: b.job_namespace,
    args: b.args,
    env: b.env,
    use_gpu: b.use_gpu,
    tag: b.tag,
    stdout: result?.docker_process_stdout ?? '',
    stderr: result?.docker_process_stderr ?? '',
    volumes: b.volumes,
    uploads: b.uploads,
    artifacts: result?.artifacts ?? {},
    artifacts_dir: b.artifacts_dir,
    target_validator_hotkey: job.validator,
    on_trusted_miner: b.on_trusted_miner,
    upload_results: result?.upload_results ?? {},
    download_time_limit: b.download_time_limit,
    execution_time_limit: b.execution_time_limit,
    streaming_start_time_limit: b.streaming_start_time_limit,
    upload_time_limit: b.upload_time_limit,
    streaming_server_cert: streaming?.streaming_server_cert ?? null,
    streaming_server_address: streaming?.streaming_server_address ?? null,
    streaming_server_port: streaming?.streaming_server_port ?? null,
    status_history: job.history.map(historyEntryOf),
  };
}
