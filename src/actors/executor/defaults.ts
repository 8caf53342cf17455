/**
 * Every default of the executor's effect modules (docker runner, volumes, uploads, artifacts, temp dirs), in one
 * place. Numbers marked "upstream" are ComputeHorde's values (executor `job_runner.py`, `compute_horde_core`); the
 * rest are Horde's own choices, each with the consequence of changing it.
 */

/** Docker engine socket used when no engine address is injected. */
export const DEFAULT_DOCKER_SOCKET_PATH = '/var/run/docker.sock';

/**
 * Upper bound of an image pull (`ensureImage`). Upstream bounds the pull only by the 5 s startup stage; a larger value
 * lets big images arrive but eats the startup budget, so preloading images is still the real fix.
 */
export const IMAGE_PULL_TIMEOUT_MS = 300_000;

/**
 * How long `runJobContainer` keeps reading the attach stream after the container stopped, so that output still in
 * flight is captured. Too short loses the last lines of a chatty job; too long delays every result when the engine
 * forgets to close the stream.
 */
export const LOG_DRAIN_TIMEOUT_MS = 5_000;

/**
 * Upper bound of removing a job container in `finally`. Past it the removal is reported as failed and the container
 * is left to `removeStaleJobContainers` at the next executor start.
 */
export const CONTAINER_REMOVE_TIMEOUT_MS = 30_000;

/** Upstream `MAX_RESULT_SIZE_IN_RESPONSE`: stdout/stderr longer than this many characters are truncated on the wire. */
export const WIRE_OUTPUT_MAX_CHARS = 1_000_000;

/** Upstream keeps this many leading characters of a truncated stream (`TRUNCATED_RESPONSE_PREFIX_LEN`). */
export const WIRE_OUTPUT_HEAD_CHARS = 500_000;

/** Upstream keeps this many trailing characters of a truncated stream (`TRUNCATED_RESPONSE_SUFFIX_LEN`). */
export const WIRE_OUTPUT_TAIL_CHARS = 500_000;

/** Upstream joins head and tail of a truncated stream with this text. */
export const WIRE_OUTPUT_ELLIPSIS = ' ... ';

/**
 * Bytes of each stream's head (and, separately, tail) kept in memory while a container runs. A UTF-8 character is at
 * most 4 bytes, so 4 × 500k characters plus one partial character at the cut is enough to rebuild upstream's
 * character-exact truncation without reading the full copy back from disk. Memory per job: 4 × this (2 streams).
 */
export const LOG_CAPTURE_EDGE_BYTES = 4 * WIRE_OUTPUT_HEAD_CHARS + 4;

/** Upstream `VOLUME_MAX_SIZE_BYTES` (2 GiB): a download above this fails, checked on Content-Length and while streaming. */
export const VOLUME_MAX_SIZE_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * Upper bound of the bytes one zip volume may expand to. Upstream has none (a zip bomb fills the disk); 8 GiB leaves
 * room for highly compressible data sets while a bomb fails with `executor.volume_too_large`.
 */
export const VOLUME_MAX_EXTRACTED_BYTES = 8 * 1024 * 1024 * 1024;

/**
 * Retries after the first failed download attempt (the brief's "3 retries"). Upstream's `max_retries=3` counts
 * attempts and sleeps 1 s then 4 s (its factor doubles twice); Horde retries 3 times after 1, 2 and 4 s, which fits
 * inside any download budget of ≥ 8 s and is cut short by the stage deadline anyway.
 */
export const VOLUME_DOWNLOAD_RETRIES = 3;

/** First retry delay of a download; the n-th retry waits base × 2^(n−1) × (1 + U(0, jitter)). Upstream 1 s. */
export const VOLUME_DOWNLOAD_RETRY_BASE_MS = 1_000;

/** Relative jitter added to each download retry delay (upstream `random.uniform(0, 0.1)`). */
export const VOLUME_DOWNLOAD_RETRY_JITTER = 0.1;

/**
 * A download fails when the connection stays silent this long (connect or between chunks). This is httpx's default
 * 5 s that upstream runs with; a larger value tolerates slow origins but detects a dead one later.
 */
export const VOLUME_DOWNLOAD_IDLE_TIMEOUT_MS = 5_000;

/** Upstream `MAX_CONCURRENT_DOWNLOADS`: HTTP downloads running at once in one executor process. */
export const MAX_CONCURRENT_DOWNLOADS = 3;

/** Redirects followed by one download (httpx's default `max_redirects`). */
export const MAX_DOWNLOAD_REDIRECTS = 20;

/**
 * Callers that may wait for a download or upload slot. The executor runs one job, so a few dozen waiters mean a bug
 * (a multi_volume with thousands of parts); past this, new callers fail with `executor.concurrency_queue_full`.
 */
export const MAX_TRANSFER_WAITERS = 256;

/** Upstream `OUTPUT_UPLOAD_TIMEOUT_SECONDS` (300 s), applied like httpx: to connecting and to each silence on the socket. */
export const UPLOAD_IDLE_TIMEOUT_MS = 300_000;

/** Upstream `retry(max_retries=3)`: attempts per HTTP upload. */
export const UPLOAD_MAX_ATTEMPTS = 3;

/** Delay before the second upload attempt; each further one doubles it (upstream 1 s, then 2 s). */
export const UPLOAD_RETRY_BASE_MS = 1_000;

/** Upstream `MAX_CONCURRENT_UPLOADS`: HTTP uploads running at once in one executor process. */
export const MAX_CONCURRENT_UPLOADS = 3;

/** Upstream `read_stream_with_cap` (10 MiB): a larger upload response body fails the upload. */
export const UPLOAD_RESPONSE_MAX_BYTES = 10 * 1024 * 1024;

/** Upstream `OUTPUT_ZIP_UPLOAD_MAX_SIZE_BYTES` (2 GiB): a larger output zip is not uploaded. */
export const OUTPUT_ZIP_MAX_BYTES = 2 * 1024 * 1024 * 1024;

/** Upstream `MAX_NUMBER_OF_FILES`: entries (files and folders, as upstream counts them) in one output zip. */
export const OUTPUT_ZIP_MAX_ENTRIES = 1_000;

/** Upstream `MAX_ARTIFACT_SIZE`: an artifact must be strictly smaller than this many bytes to be sent. */
export const ARTIFACT_MAX_BYTES = 1_000_000;

/**
 * Image of the short-lived container that deletes a temp dir whose files the host user may not remove (root-owned,
 * read-only). Upstream uses `alpine:3.19`; any image with `/bin/sh` and `rm` that is present locally works.
 */
export const TEMP_DIR_CLEANUP_IMAGE = 'alpine:3.19';

/** Upper bound of the cleanup container's run; past it the temp dir is reported as not removed. */
export const TEMP_DIR_CLEANUP_TIMEOUT_MS = 60_000;

/** Label every container Horde creates carries, so that leaks can be found and removed by label. */
export const LABEL_MANAGED = 'horde.managed';
/** Label naming the Horde process (executor id) that owns a container. */
export const LABEL_HORDE_ID = 'horde.id';
/** Label with the job's uuid. */
export const LABEL_JOB_UUID = 'horde.job_uuid';
/** Label with the executor token (one per executor run). */
export const LABEL_TOKEN = 'horde.token';
/** Label saying what a container is for (`job`, `cleanup`). */
export const LABEL_ROLE = 'horde.role';

// ---------------------------------------------------------------------------------------------------------------
// The job driver and `horde executor` (src/machines/jobDriver.machine.ts, executorRoot.ts, settings.ts)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Upstream `--startup-time-limit` (the miner's dynamic config gives 5 s): from driver start to
 * `V0ExecutorReadyRequest`, waiting for the initial request, stale-container cleanup and the image pull included.
 * Larger lets big images be pulled on demand but delays the horde failure when the miner never sends the job.
 */
export const STARTUP_TIME_LIMIT_MS = 5_000;

/**
 * Default image pull policy. Upstream always pulls a given `docker_image`; `if-missing` skips the registry round
 * trip for a present image (the usual case: miners preload job images), at the price of not refreshing a moved tag.
 */
export const IMAGE_PULL_POLICY = 'if-missing' as const;

/**
 * The job container is killed at least this long before the job's deadline (and, as upstream, after at most its
 * execution limit), so that the kill (~0.5 s on this engine) and the `V0JobFailedRequest(timeout)` reach the miner
 * before the validator's identical deadline passes and it declares `execution_timed_out` instead. Larger eats into
 * the job's execution time when it used its leeway; smaller risks the validator's verdict winning.
 */
export const EXECUTION_REPORT_RESERVE_MS = 1_000;

/**
 * After the execution deadline, how long the driver waits for the container runner's own report (which carries the
 * output printed so far) before reporting the timeout without it. The kill itself takes well under a second; longer
 * only matters when the engine hangs, and every millisecond here is one the validator's own timer is running.
 */
export const EXECUTION_KILL_GRACE_MS = 3_000;

/**
 * Upper bound of the cleanup stage (waiting for aborted effects to settle, removing the container and the temp dir).
 * Past it the driver finishes anyway and reports the cleanup as failed; the labels let the next executor's stale
 * sweep remove a leftover container.
 */
export const CLEANUP_TIMEOUT_MS = 60_000;

/**
 * How long the cleanup waits for effects that were aborted (a container being killed and removed, a download being
 * cancelled) before it sweeps by label. Aborted effects normally settle in milliseconds.
 */
export const EFFECT_SETTLE_TIMEOUT_MS = 20_000;

/**
 * After the job ended, how long the root waits for a dropped miner link to come back so that the final message can
 * be flushed from the transport's outbox. Upstream's miner fails the job the moment the executor disconnects, so a
 * long wait buys little; it only keeps the executor slot busy.
 */
export const FINAL_DELIVERY_GRACE_MS = 5_000;

/**
 * How long a stop request (SIGTERM/SIGINT) may take to report and clean up before the root stops the driver by force
 * and runs its own cleanup sweep.
 */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * A running job container of another executor is treated as stale once it is this old, even when its executor
 * cannot be checked (another host or PID namespace): upstream's longest job is 3,600 s (`MAX_JOB_RUN_TIME`) and every
 * executor kills its container at its own deadline, so an older one has lost its executor.
 */
export const STALE_JOB_CONTAINER_AGE_MS = 65 * 60_000;

/** First reconnect delay ceiling of the miner link (the miner is close: reconnect fast). */
export const MINER_LINK_RECONNECT_BASE_MS = 200;

/** Reconnect delay cap of the miner link; the final-delivery grace and the startup budget bound the total wait. */
export const MINER_LINK_RECONNECT_CAP_MS = 2_000;

/** Connect timeout of one miner link attempt. */
export const MINER_LINK_CONNECT_TIMEOUT_MS = 5_000;

/** The `horde.id` label value when none is configured: executors of one miner should share one. */
export const DEFAULT_HORDE_ID = 'default';

/**
 * GenericError replies to unsupported or out-of-order miner messages, per process. Upstream answers every one;
 * the cap keeps a misbehaving peer from turning the executor into an echo loop. Past it messages are only logged
 * (and counted in `horde_executor_generic_errors_suppressed`).
 */
export const MAX_GENERIC_ERROR_REPLIES = 64;

/** Label with the host name of the executor that owns a job container (liveness check of the stale sweep). */
export const LABEL_EXECUTOR_HOST = 'horde.executor_host';
/** Label with the PID of the executor that owns a job container. */
export const LABEL_EXECUTOR_PID = 'horde.executor_pid';
