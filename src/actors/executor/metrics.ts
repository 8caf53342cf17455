import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

/** Every instrument of the executor's effect modules, created in one place from an injected meter. */
export interface ExecutorMetrics {
  /** Job containers run to an outcome; attribute `outcome`: exited | timeout | aborted | start_failed. */
  readonly containerRuns: Counter;
  /** Wall time from create to exit (or kill) of a job container. */
  readonly containerRunDurationMs: Histogram;
  /** Containers that could not be removed after a run (left to the stale-container sweep). */
  readonly containerRemoveFailures: Counter;
  /** Bytes of stdout/stderr not kept in memory (the middle of long output; the full copy is on disk). */
  readonly logCaptureDroppedBytes: Counter;
  /** HTTP download attempts; attribute `outcome`: ok | retry | failed. */
  readonly downloadAttempts: Counter;
  /** Bytes written to disk by volume downloads. */
  readonly downloadBytes: Counter;
  /** HTTP upload attempts; attribute `outcome`: ok | retry | failed. */
  readonly uploadAttempts: Counter;
  /** Callers refused because a download/upload wait queue was full; attribute `queue`. */
  readonly transferQueueRejected: Counter;
  /** Artifact files not sent; attribute `reason`: too_large | directory | not_regular_file. */
  readonly artifactsSkipped: Counter;
}

/**
 * Creates the instruments. With the default meter they are no-ops until telemetry is set up.
 *
 * @example
 * ```ts
 * const metrics = createExecutorMetrics(meterProvider.getMeter('test'));
 * ```
 */
export function createExecutorMetrics(meter: Meter = hordeMeter()): ExecutorMetrics {
  return {
    containerRuns: meter.createCounter('horde_executor_container_runs', { description: 'job containers run, by outcome' }),
    containerRunDurationMs: meter.createHistogram('horde_executor_container_run_duration_ms', {
      description: 'job container create-to-exit time',
      unit: 'ms',
    }),
    containerRemoveFailures: meter.createCounter('horde_executor_container_remove_failures', {
      description: 'job containers that could not be removed',
    }),
    logCaptureDroppedBytes: meter.createCounter('horde_executor_log_capture_dropped_bytes', {
      description: 'stdout/stderr bytes not kept in memory (full copy on disk)',
      unit: 'By',
    }),
    downloadAttempts: meter.createCounter('horde_executor_volume_download_attempts', {
      description: 'volume HTTP download attempts, by outcome',
    }),
    downloadBytes: meter.createCounter('horde_executor_volume_download_bytes', {
      description: 'bytes downloaded for volumes',
      unit: 'By',
    }),
    uploadAttempts: meter.createCounter('horde_executor_upload_attempts', {
      description: 'output HTTP upload attempts, by outcome',
    }),
    transferQueueRejected: meter.createCounter('horde_executor_transfer_queue_rejected_requests', {
      description: 'downloads/uploads refused because the wait queue was full',
    }),
    artifactsSkipped: meter.createCounter('horde_executor_artifacts_skipped_files', {
      description: 'artifact files not sent, by reason',
    }),
  };
}

let defaultMetrics: ExecutorMetrics | undefined;

/** The process-wide instruments on `hordeMeter()`, created on first use. */
export function executorMetrics(): ExecutorMetrics {
  defaultMetrics ??= createExecutorMetrics();
  return defaultMetrics;
}
