import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, mkdtemp, realpath, rm } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { toError } from '../../util/errors';
import { abortableSleep, linkedController, throwIfAborted, type Sleep } from './abort';
import {
  MAX_CONCURRENT_UPLOADS,
  MAX_TRANSFER_WAITERS,
  OUTPUT_ZIP_MAX_BYTES,
  OUTPUT_ZIP_MAX_ENTRIES,
  UPLOAD_IDLE_TIMEOUT_MS,
  UPLOAD_MAX_ATTEMPTS,
  UPLOAD_RESPONSE_MAX_BYTES,
  UPLOAD_RETRY_BASE_MS,
} from './defaults';
import { ConcurrencyQueueFullError, ExecutorAbortedError, UploadFailedError, UploadRejectedError } from './errors';
import { flattenHeaders, HttpTransportError, httpRequest, readBodyCapped } from './http';
import { executorMetrics, type ExecutorMetrics } from './metrics';
import { isRetryableStatus, uploadRetryDelayMs } from './retry';
import { Semaphore } from './semaphore';
import type { HttpOutputVolumeResponse, OutputUpload, SingleFileUpload, ZipAndHttpPostUpload, ZipAndHttpPutUpload } from './types';
import { toUploadResults } from './wire';
import { isInside, zipDirectory } from './zip';

/** The process-wide upload slots (upstream's class-level semaphore of 3). */
export const uploadSlots = new Semaphore('output upload', MAX_CONCURRENT_UPLOADS, MAX_TRANSFER_WAITERS);

/** Knobs of `uploadOutput`; every one defaults to the upstream value in `defaults.ts`. */
export interface UploadOptions {
  readonly idleTimeoutMs?: number;
  readonly maxAttempts?: number;
  readonly retryBaseDelayMs?: number;
  readonly sleep?: Sleep;
  readonly maxResponseBytes?: number;
  readonly maxZipBytes?: number;
  readonly maxZipEntries?: number;
  readonly semaphore?: Semaphore;
  /** Where output zips are written before upload; default: the OS temp folder. */
  readonly scratchDir?: string;
  readonly metrics?: ExecutorMetrics;
}

export interface UploadOutputInput {
  readonly upload: OutputUpload;
  /** The job's output folder (mounted at /output). */
  readonly outputDir: string;
  readonly signal: AbortSignal;
  readonly options?: UploadOptions;
}

export interface UploadOutputResult {
  /** What each target answered, keyed as upstream keys it (`output.zip`, a relative path, `system_output`). */
  readonly responses: Readonly<Record<string, HttpOutputVolumeResponse>>;
  /** `V0JobFinishedRequest.upload_results`: each response as Python's `json.dumps` writes it. */
  readonly uploadResults: Readonly<Record<string, string>>;
  /** Output entries left out of zips (symlinks, special files), relative to the output folder. */
  readonly skipped: readonly string[];
}

interface ResolvedOptions {
  readonly idleTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly sleep: Sleep;
  readonly maxResponseBytes: number;
  readonly maxZipBytes: number;
  readonly maxZipEntries: number;
  readonly semaphore: Semaphore;
  readonly scratchDir: string;
  readonly metrics: ExecutorMetrics;
}

function resolveOptions(options: UploadOptions = {}): ResolvedOptions {
  return {
    idleTimeoutMs: options.idleTimeoutMs ?? UPLOAD_IDLE_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? UPLOAD_MAX_ATTEMPTS,
    retryBaseDelayMs: options.retryBaseDelayMs ?? UPLOAD_RETRY_BASE_MS,
    sleep: options.sleep ?? abortableSleep,
    maxResponseBytes: options.maxResponseBytes ?? UPLOAD_RESPONSE_MAX_BYTES,
    maxZipBytes: options.maxZipBytes ?? OUTPUT_ZIP_MAX_BYTES,
    maxZipEntries: options.maxZipEntries ?? OUTPUT_ZIP_MAX_ENTRIES,
    semaphore: options.semaphore ?? uploadSlots,
    scratchDir: options.scratchDir ?? os.tmpdir(),
    metrics: options.metrics ?? executorMetrics(),
  };
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.zip': 'application/zip',
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
};

/** httpx guesses a file part's type from its name, falling back to octet-stream. */
function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[path.extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/** httpx's HTML5-style escaping of multipart parameter values. */
function formParam(value: string): string {
  return value.replace(/[\\"\r\n]/g, (ch) => ({ '\\': '\\\\', '"': '%22', '\r': '%0D', '\n': '%0A' })[ch] ?? ch);
}

function lowerCaseHeaders(...sources: Array<Readonly<Record<string, string | number>> | null | undefined>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const source of sources) {
    for (const [name, value] of Object.entries(source ?? {})) headers[name.toLowerCase()] = String(value);
  }
  return headers;
}

interface FileToSend {
  readonly method: 'POST' | 'PUT';
  readonly url: string;
  readonly filePath: string;
  readonly sizeBytes: number;
  /** Multipart file name (POST). */
  readonly fileName: string;
  readonly formFields?: Readonly<Record<string, string>> | null;
  readonly headers?: Readonly<Record<string, string>> | null;
}

/**
 * The request body of one attempt. POST is `multipart/form-data` like httpx builds it (form fields first, then the
 * file as field `file`); PUT streams the raw file. Both carry an exact Content-Length (presigned S3 URLs refuse
 * chunked bodies).
 */
function requestFor(file: FileToSend): { headers: OutgoingHttpHeaders; body: () => Readable } {
  if (file.method === 'PUT') {
    return {
      headers: lowerCaseHeaders({ 'Content-Length': file.sizeBytes }, file.headers),
      body: () => createReadStream(file.filePath),
    };
  }
  const boundary = randomBytes(16).toString('hex');
  const fieldParts = Object.entries(file.formFields ?? {}).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${formParam(name)}"\r\n\r\n${value}\r\n`,
  );
  const head = Buffer.from(
    `${fieldParts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${formParam(file.fileName)}"\r\n` +
      `Content-Type: ${contentTypeFor(file.fileName)}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    headers: lowerCaseHeaders(
      { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + file.sizeBytes + tail.length },
      file.headers,
    ),
    body: () =>
      Readable.from(
        (async function* () {
          yield head;
          for await (const chunk of createReadStream(file.filePath)) yield chunk as Buffer;
          yield tail;
        })(),
      ),
  };
}

/** Sends one file with upstream's retry loop (3 attempts, 1 s then 2 s apart), holding an upload slot throughout. */
async function sendFile(file: FileToSend, opts: ResolvedOptions, signal: AbortSignal): Promise<HttpOutputVolumeResponse> {
  let release: () => void;
  try {
    release = await opts.semaphore.acquire(signal);
  } catch (error) {
    if (error instanceof ConcurrencyQueueFullError) opts.metrics.transferQueueRejected.add(1, { queue: 'upload' });
    throw error;
  }
  try {
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal, 'output upload');
      const { headers, body } = requestFor(file);
      let failure: { message: string; retryable: boolean; status?: number; cause?: unknown };
      try {
        const response: IncomingMessage = await httpRequest({
          method: file.method,
          url: file.url,
          headers,
          body,
          maxRedirects: 0,
          idleTimeoutMs: opts.idleTimeoutMs,
          signal,
        });
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          const text = await readBodyCapped(response, opts.maxResponseBytes);
          if (text === undefined) {
            opts.metrics.uploadAttempts.add(1, { outcome: 'failed' });
            throw new UploadFailedError(file.url, `response body exceeds ${opts.maxResponseBytes} bytes`, attempt, status);
          }
          opts.metrics.uploadAttempts.add(1, { outcome: 'ok' });
          return { headers: flattenHeaders(response), body: text };
        }
        response.resume();
        failure = { message: `HTTP ${status}`, retryable: isRetryableStatus(status), status };
      } catch (error) {
        if (signal.aborted) throw new ExecutorAbortedError('output upload', { cause: signal.reason });
        if (error instanceof UploadFailedError) throw error;
        if (!(error instanceof HttpTransportError)) throw error;
        failure = { message: error.message, retryable: true, cause: error };
      }
      if (!failure.retryable || attempt >= opts.maxAttempts) {
        opts.metrics.uploadAttempts.add(1, { outcome: 'failed' });
        throw new UploadFailedError(file.url, failure.message, attempt, failure.status, { cause: failure.cause });
      }
      opts.metrics.uploadAttempts.add(1, { outcome: 'retry' });
      await opts.sleep(uploadRetryDelayMs(attempt, opts.retryBaseDelayMs), signal);
    }
  } finally {
    release();
  }
}

/** A single-file upload's file, which must be a regular file inside the output folder. */
async function singleFileToSend(upload: SingleFileUpload, outputDir: string): Promise<FileToSend> {
  const filePath = path.resolve(outputDir, upload.relative_path);
  if (!isInside(outputDir, filePath) || filePath === outputDir) {
    throw new UploadRejectedError(`relative_path ${JSON.stringify(upload.relative_path)} escapes the output folder`);
  }
  let stats;
  let real: string;
  try {
    stats = await lstat(filePath);
    real = await realpath(filePath);
  } catch {
    throw new UploadRejectedError(`File not found: ${upload.relative_path}`);
  }
  // The job wrote this folder as root: a symlink (last component or a parent folder) could point at any host file,
  // so the file must be a regular file that really lies inside the output folder.
  if (!stats.isFile() || !isInside(await realpath(outputDir), real)) {
    throw new UploadRejectedError(`not a regular file inside the output folder: ${upload.relative_path}`);
  }
  return {
    method: upload.output_upload_type === 'single_file_post' ? 'POST' : 'PUT',
    url: upload.url,
    filePath,
    sizeBytes: stats.size,
    fileName: path.basename(filePath),
    formFields: upload.output_upload_type === 'single_file_post' ? upload.form_fields : undefined,
    headers: upload.signed_headers,
  };
}

async function sendZip(
  target: ZipAndHttpPostUpload | ZipAndHttpPutUpload,
  outputDir: string,
  exclude: readonly string[],
  opts: ResolvedOptions,
  signal: AbortSignal,
): Promise<{ response: HttpOutputVolumeResponse; skipped: readonly string[] }> {
  const scratch = await mkdtemp(path.join(opts.scratchDir, 'horde-output-'));
  try {
    const zipPath = path.join(scratch, 'output.zip');
    const zipped = await zipDirectory({ dir: outputDir, outPath: zipPath, exclude, maxEntries: opts.maxZipEntries, maxBytes: opts.maxZipBytes, signal });
    const response = await sendFile(
      {
        method: target.output_upload_type === 'zip_and_http_post' ? 'POST' : 'PUT',
        url: target.url,
        filePath: zipPath,
        sizeBytes: zipped.sizeBytes,
        fileName: 'output.zip',
        formFields: target.output_upload_type === 'zip_and_http_post' ? target.form_fields : undefined,
      },
      opts,
      signal,
    );
    return { response, skipped: zipped.skipped };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Uploads a job's output folder as its `output_upload` asks: `zip_and_http_post`/`zip_and_http_put` (the whole
 * folder, ≤ 1,000 entries, ≤ 2 GiB, key `output.zip`), `single_file_post`/`single_file_put` (key = relative_path),
 * or `multi_upload` (the single files concurrently, plus the rest of the folder zipped to `system_output`). Each HTTP
 * request gets 3 attempts (1 s, 2 s apart; 5xx/408/429 and broken connections are retried), at most 3 run at once
 * per process, and a response body over 10 MiB fails the upload.
 *
 * @example
 * ```ts
 * const { uploadResults } = await uploadOutput({
 *   upload: { output_upload_type: 'zip_and_http_put', url: presignedUrl },
 *   outputDir: dirs.outputDir,
 *   signal,
 * });
 * ```
 */
export async function uploadOutput(input: UploadOutputInput): Promise<UploadOutputResult> {
  const opts = resolveOptions(input.options);
  const outputDir = path.resolve(input.outputDir);
  const upload = input.upload;
  throwIfAborted(input.signal, 'output upload');
  const responses: Record<string, HttpOutputVolumeResponse> = {};
  const skipped: string[] = [];
  switch (upload.output_upload_type) {
    case 'zip_and_http_post':
    case 'zip_and_http_put': {
      const result = await sendZip(upload, outputDir, [], opts, input.signal);
      responses['output.zip'] = result.response;
      skipped.push(...result.skipped);
      break;
    }
    case 'single_file_post':
    case 'single_file_put': {
      const file = await singleFileToSend(upload, outputDir);
      responses[upload.relative_path] = await sendFile(file, opts, input.signal);
      break;
    }
    case 'multi_upload': {
      // Every file is checked before the first byte leaves, as upstream does.
      const files = await Promise.all(upload.uploads.map((single) => singleFileToSend(single, outputDir)));
      const { controller, dispose } = linkedController(input.signal);
      let firstError: unknown;
      const fail = (error: unknown): never => {
        firstError ??= error;
        controller.abort(error);
        throw error;
      };
      try {
        const singles = files.map((file) => sendFile(file, opts, controller.signal).catch(fail));
        const system = upload.system_output
          ? sendZip(upload.system_output, outputDir, upload.uploads.map((single) => single.relative_path), opts, controller.signal).catch(fail)
          : undefined;
        const settled = await Promise.allSettled([...singles, ...(system ? [system] : [])]);
        if (input.signal.aborted) throw new ExecutorAbortedError('output upload', { cause: input.signal.reason });
        if (firstError !== undefined) throw toError(firstError);
        upload.uploads.forEach((single, index) => {
          responses[single.relative_path] = (settled[index] as PromiseFulfilledResult<HttpOutputVolumeResponse>).value;
        });
        if (system) {
          const result = (settled[settled.length - 1] as PromiseFulfilledResult<{ response: HttpOutputVolumeResponse; skipped: readonly string[] }>).value;
          responses.system_output = result.response;
          skipped.push(...result.skipped);
        }
      } finally {
        dispose();
      }
      break;
    }
  }
  return { responses, uploadResults: toUploadResults(responses), skipped };
}

/**
 * Puts the full stdout/stderr copies into the output folder as `stdout.txt`/`stderr.txt`, which upstream does
 * before every upload (overwriting whatever the job wrote there).
 */
export async function writeStdStreamsToOutput(input: { stdoutPath: string; stderrPath: string; outputDir: string }): Promise<void> {
  for (const [source, name] of [
    [input.stdoutPath, 'stdout.txt'],
    [input.stderrPath, 'stderr.txt'],
  ] as const) {
    const destination = path.join(input.outputDir, name);
    // The job may have planted a symlink (or a folder) under this name: replace it instead of writing through it.
    await rm(destination, { recursive: true, force: true });
    await copyFile(source, destination, fsConstants.COPYFILE_EXCL);
  }
}
