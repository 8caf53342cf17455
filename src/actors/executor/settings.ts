import { defineSettings, setting, type ConfigOf } from '../../config';
import { logLevelSetting } from '../../telemetry/logger';
import {
  DEFAULT_DOCKER_SOCKET_PATH,
  DEFAULT_HORDE_ID,
  FINAL_DELIVERY_GRACE_MS,
  IMAGE_PULL_POLICY,
  IMAGE_PULL_TIMEOUT_MS,
  SHUTDOWN_TIMEOUT_MS,
  STARTUP_TIME_LIMIT_MS,
  TEMP_DIR_CLEANUP_IMAGE,
} from './defaults';

/**
 * Settings of `horde executor` (flags > environment > config file > defaults). The miner address and token use
 * upstream's variable names (`MINER_ADDRESS`, `EXECUTOR_TOKEN`), so an upstream-style executor manager can start a
 * Horde executor unchanged; everything else is `HORDE_*`.
 */
export const executorSettings = defineSettings({
  minerAddress: setting.string({
    doc: 'Base address of the miner, e.g. ws://127.0.0.1:8000; the executor dials <address>/v0.1/executor_interface/<token>.',
    env: 'MINER_ADDRESS',
    validate: (value) => (/^wss?:\/\/[^/\s]+/.test(value) ? undefined : 'must be a ws:// or wss:// address'),
  }),
  executorToken: setting.string({
    doc: 'The token the miner issued for this executor run (upstream: "<job uuid>-<uuid4>"); it is part of the URL.',
    env: 'EXECUTOR_TOKEN',
    secret: true,
    validate: (value) => (/^[A-Za-z0-9._~-]+$/.test(value) ? undefined : 'use letters, digits, ".", "_", "~" or "-" only'),
  }),
  startupTimeLimitMs: setting.durationMs({
    doc:
      'Budget from start to V0ExecutorReadyRequest (upstream --startup-time-limit): waiting for the initial request, ' +
      'stale-container cleanup and the image pull. Past it the job is a horde failure.',
    env: 'HORDE_EXECUTOR_STARTUP_TIME_LIMIT_MS',
    default: STARTUP_TIME_LIMIT_MS,
    min: 1,
  }),
  hordeId: setting.string({
    doc:
      'Label value (horde.id) shared by every executor of one miner. The startup sweep only ever looks at containers ' +
      'of this horde, and only removes abandoned ones.',
    env: 'HORDE_ID',
    default: DEFAULT_HORDE_ID,
    validate: (value) => (/^[A-Za-z0-9._-]+$/.test(value) ? undefined : 'use letters, digits, ".", "_" or "-" only'),
  }),
  imagePullPolicy: setting.oneOf(['always', 'if-missing', 'never'], {
    doc: 'When to pull the job image: always (upstream), if-missing (present images are used as they are), never.',
    env: 'HORDE_EXECUTOR_IMAGE_PULL_POLICY',
    default: IMAGE_PULL_POLICY,
  }),
  imagePullTimeoutMs: setting.durationMs({
    doc: 'Upper bound of one image pull; the startup budget caps it further.',
    env: 'HORDE_EXECUTOR_IMAGE_PULL_TIMEOUT_MS',
    default: IMAGE_PULL_TIMEOUT_MS,
    min: 1,
  }),
  workDir: setting.string({
    doc: 'Folder in which job temp dirs are made (default: the OS temp folder). Must be visible to the docker engine.',
    env: 'HORDE_EXECUTOR_WORK_DIR',
    optional: true,
  }),
  cleanupImage: setting.string({
    doc: 'A local image with sh and rm, used to delete root-owned files a job left when a plain delete is refused.',
    env: 'HORDE_EXECUTOR_CLEANUP_IMAGE',
    default: TEMP_DIR_CLEANUP_IMAGE,
  }),
  gpu: setting.boolean({
    doc:
      'Give jobs with docker_run_options_preset nvidia_all every GPU (Runtime nvidia, DeviceRequests Count -1). Off ' +
      'by default: it needs the NVIDIA container runtime, and is untested on hosts without a GPU.',
    env: 'HORDE_EXECUTOR_GPU',
    default: false,
  }),
  jobMemoryMb: setting.int({
    doc: 'Memory limit of the job container in MiB (unset: no limit, as upstream).',
    env: 'HORDE_EXECUTOR_JOB_MEMORY_MB',
    optional: true,
    min: 6,
  }),
  jobCpus: setting.number({
    doc: 'CPU limit of the job container, in CPUs (unset: no limit, as upstream).',
    env: 'HORDE_EXECUTOR_JOB_CPUS',
    optional: true,
    min: 0.01,
  }),
  dockerSocket: setting.string({
    doc: 'Unix socket of the docker engine that runs the job container.',
    env: 'HORDE_DOCKER_SOCKET',
    default: DEFAULT_DOCKER_SOCKET_PATH,
  }),
  finalDeliveryGraceMs: setting.durationMs({
    doc: 'After the job ended with the miner link down, how long to wait for it to come back so the final message leaves.',
    env: 'HORDE_EXECUTOR_FINAL_DELIVERY_GRACE_MS',
    default: FINAL_DELIVERY_GRACE_MS,
  }),
  shutdownTimeoutMs: setting.durationMs({
    doc: 'On SIGTERM/SIGINT, how long reporting and cleanup may take before the job is stopped by force and swept.',
    env: 'HORDE_EXECUTOR_SHUTDOWN_TIMEOUT_MS',
    default: SHUTDOWN_TIMEOUT_MS,
    min: 1,
  }),
  metricsPort: setting.int({
    doc: 'Serve Prometheus /metrics on 127.0.0.1:<port> while the executor runs (unset: no telemetry server).',
    env: 'HORDE_EXECUTOR_METRICS_PORT',
    optional: true,
    min: 0,
    max: 65535,
  }),
  traceparent: setting.string({
    doc: 'W3C traceparent of the span that started this executor (the miner\'s): the job\'s spans become its children.',
    env: 'TRACEPARENT',
    optional: true,
  }),
  logLevel: logLevelSetting,
});

/** A loaded `horde executor` configuration. */
export type ExecutorConfig = ConfigOf<typeof executorSettings>;
