/**
 * Defaults of the SDK (`HordeClient`) and of the friendly job spec. Upstream's values where upstream has one
 * (compute_horde_sdk `_internal/sdk.py`), each with what changing it does.
 */

/** Attempts of one HTTP request on 429, 5xx or a network error (upstream `HTTP_RETRY_MAX_ATTEMPTS`). More attempts ride out longer facilitator outages at the cost of a slower failure. */
export const SDK_HTTP_MAX_ATTEMPTS = 5;

/** Shortest wait before an HTTP retry (upstream tenacity `initial=0.2`). Lower hammers a struggling facilitator. */
export const SDK_HTTP_RETRY_MIN_DELAY_MS = 200;

/** Longest wait before an HTTP retry. Higher spreads a herd of clients better but slows recovery. */
export const SDK_HTTP_RETRY_MAX_DELAY_MS = 5_000;

/** Bound on one HTTP request (connect to last byte); an overrun counts as a network error and is retried. */
export const SDK_HTTP_REQUEST_TIMEOUT_MS = 30_000;

/** Polling period of a job when the push stream is unavailable (upstream `JOB_REFRESH_INTERVAL`, 3 s). Lower adds facilitator load per waiting client. */
export const SDK_JOB_POLL_INTERVAL_MS = 3_000;

/** Job attempts of `runUntilComplete`, each with a new uuid (upstream `DEFAULT_MAX_JOB_RUN_ATTEMPTS`). */
export const SDK_MAX_JOB_ATTEMPTS = 3;

/** Wait between two job attempts of `runUntilComplete` (upper bound of a full-jitter draw). */
export const SDK_JOB_RETRY_MAX_DELAY_MS = 2_000;

/**
 * Default download budget of a job, in seconds. Upstream's SDK makes callers choose; Horde picks a value that fits
 * small inline volumes and a local HTTP server (it is also part of the job's paid cost upstream).
 */
export const SDK_DEFAULT_DOWNLOAD_TIME_LIMIT_S = 60;

/** Default execution budget of a job, in seconds (see {@link SDK_DEFAULT_DOWNLOAD_TIME_LIMIT_S}). */
export const SDK_DEFAULT_EXECUTION_TIME_LIMIT_S = 60;

/** Default upload budget of a job, in seconds (see {@link SDK_DEFAULT_DOWNLOAD_TIME_LIMIT_S}). */
export const SDK_DEFAULT_UPLOAD_TIME_LIMIT_S = 30;

/** Streaming start budget (upstream `DEFAULT_STREAMING_START_TIME_LIMIT_SEC`, 5 s); signed even for non-streaming jobs. */
export const SDK_DEFAULT_STREAMING_START_TIME_LIMIT_S = 5;

/**
 * Largest zip an inline volume may carry. base64 grows it by 4/3, so 36 MiB stays under the facilitator's 50 MiB
 * body limit with room for the rest of the request; larger inputs belong in a URL volume.
 */
export const SDK_INLINE_VOLUME_MAX_BYTES = 36 * 1024 * 1024;

/** Longest server-sent-events line accepted before the stream is dropped (and polling takes over): bounds memory. */
export const SDK_SSE_MAX_LINE_BYTES = 1024 * 1024;

/** Headers upstream's SDK sends with every authenticated request. */
export const SDK_REALM_HEADERS: Readonly<Record<string, string>> = { Realm: 'mainnet', SubnetID: '12' };
