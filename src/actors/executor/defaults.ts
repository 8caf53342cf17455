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
