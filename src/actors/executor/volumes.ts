import { copyFile, mkdir, mkdtemp, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { systemRandom, type Random } from '../../util/clock';
import { HordeError, toError } from '../../util/errors';
import { abortableSleep, linkedController, throwIfAborted, type Sleep } from './abort';
import {
  MAX_CONCURRENT_DOWNLOADS,
  MAX_DOWNLOAD_REDIRECTS,
  MAX_TRANSFER_WAITERS,
  VOLUME_DOWNLOAD_IDLE_TIMEOUT_MS,
  VOLUME_DOWNLOAD_RETRIES,
  VOLUME_DOWNLOAD_RETRY_BASE_MS,
  VOLUME_DOWNLOAD_RETRY_JITTER,
  VOLUME_MAX_EXTRACTED_BYTES,
  VOLUME_MAX_SIZE_BYTES,
} from './defaults';
import {
  ConcurrencyQueueFullError,
  ExecutorAbortedError,
  VolumeDownloadError,
  VolumeInvalidError,
  VolumeTooLargeError,
  VolumeUnsupportedError,
} from './errors';
import { HttpTransportError, httpRequest } from './http';
import { executorMetrics, type ExecutorMetrics } from './metrics';
import { downloadRetryDelayMs, isRetryableStatus } from './retry';
import { Semaphore } from './semaphore';
import type { LeafVolume, Volume } from './types';
import { extractZip, isInside, type ZipSource } from './zip';

/**
 * The process-wide download slots (upstream's class-level semaphore of 3). Shared by every `downloadVolume` call
 * that does not inject its own.
 */
export const downloadSlots = new Semaphore('volume download', MAX_CONCURRENT_DOWNLOADS, MAX_TRANSFER_WAITERS);

/** Knobs of `downloadVolume`; every one defaults to the upstream value in `defaults.ts`. */
export interface VolumeDownloadOptions {
  readonly maxSizeBytes?: number;
  readonly maxExtractedBytes?: number;
  /** Retries after the first failed attempt of each HTTP download. */
  readonly retries?: number;
  readonly retryBaseDelayMs?: number;
  readonly retryJitter?: number;
  readonly random?: Random;
  readonly sleep?: Sleep;
  readonly idleTimeoutMs?: number;
  readonly maxRedirects?: number;
  readonly semaphore?: Semaphore;
  /** Where downloads are staged before being moved into place; default: a fresh folder next to `targetDir`. */
  readonly stagingParentDir?: string;
  readonly metrics?: ExecutorMetrics;
}

export interface DownloadVolumeInput {
  readonly volume: Volume;
  /** The job's volume folder (mounted at /volume). */
  readonly targetDir: string;
  readonly signal: AbortSignal;
  readonly options?: VolumeDownloadOptions;
}

export interface DownloadVolumeResult {
  /** Files written below `targetDir`. */
  readonly files: number;
  /** Bytes fetched over HTTP (inline volumes count 0). */
  readonly downloadedBytes: number;
  /** HTTP requests made, retries included. */
  readonly httpAttempts: number;
}

interface ResolvedOptions {
  readonly maxSizeBytes: number;
  readonly maxExtractedBytes: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly retryJitter: number;
  readonly random: Random;
  readonly sleep: Sleep;
  readonly idleTimeoutMs: number;
  readonly maxRedirects: number;
  readonly semaphore: Semaphore;
  readonly metrics: ExecutorMetrics;
}

function resolveOptions(options: VolumeDownloadOptions = {}): ResolvedOptions {
  return {
    maxSizeBytes: options.maxSizeBytes ?? VOLUME_MAX_SIZE_BYTES,
    maxExtractedBytes: options.maxExtractedBytes ?? VOLUME_MAX_EXTRACTED_BYTES,
    retries: options.retries ?? VOLUME_DOWNLOAD_RETRIES,
    retryBaseDelayMs: options.retryBaseDelayMs ?? VOLUME_DOWNLOAD_RETRY_BASE_MS,
    retryJitter: options.retryJitter ?? VOLUME_DOWNLOAD_RETRY_JITTER,
    random: options.random ?? systemRandom,
    sleep: options.sleep ?? abortableSleep,
    idleTimeoutMs: options.idleTimeoutMs ?? VOLUME_DOWNLOAD_IDLE_TIMEOUT_MS,
    maxRedirects: options.maxRedirects ?? MAX_DOWNLOAD_REDIRECTS,
    semaphore: options.semaphore ?? downloadSlots,
    metrics: options.metrics ?? executorMetrics(),
  };
}

/** One failed HTTP attempt, with whether another attempt may succeed. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED']);

function parseContentRangeStart(header: string | undefined): number | undefined {
  const match = header === undefined ? null : /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header.trim());
  return match ? Number(match[1]) : undefined;
}

/** Leaves of a volume, after refusing what cannot be honoured (before any byte is fetched). */
export function flattenVolume(volume: Volume): LeafVolume[] {
  const leaves: LeafVolume[] = [];
  if (volume.volume_type === 'multi_volume') {
    for (const inner of volume.volumes) {
      if ((inner as Volume).volume_type === 'multi_volume') throw new VolumeInvalidError('multi_volume cannot contain a multi_volume');
      leaves.push(inner);
    }
  } else {
    leaves.push(volume);
  }
  for (const leaf of leaves) {
    if (leaf.volume_type === 'huggingface_volume') {
      throw new VolumeUnsupportedError(
        'huggingface_volume',
        'Hugging Face downloads need the hub, which is not reachable from this deployment; use zip_url or single_file',
      );
    }
  }
  return leaves;
}

/** Resolves a volume's `relative_path` below the volume folder, refusing escapes (upstream does not check). */
export function volumeDestination(root: string, relativePath: string | null | undefined, required: boolean): string {
  if (relativePath === undefined || relativePath === null || relativePath === '') {
    if (required) throw new VolumeInvalidError('single_file volume needs a relative_path');
    return root;
  }
  const destination = path.resolve(root, relativePath);
  if (path.isAbsolute(relativePath) || !isInside(root, destination) || (required && destination === root)) {
    throw new VolumeInvalidError(`relative_path ${JSON.stringify(relativePath)} escapes the volume folder`);
  }
  return destination;
}

async function attemptDownload(
  url: string,
  filePath: string,
  fromByte: number,
  opts: ResolvedOptions,
  signal: AbortSignal,
): Promise<void> {
  let response: IncomingMessage;
  try {
    response = await httpRequest({
      method: 'GET',
      url,
      headers: fromByte > 0 ? { range: `bytes=${fromByte}-` } : {},
      maxRedirects: opts.maxRedirects,
      idleTimeoutMs: opts.idleTimeoutMs,
      signal,
    });
  } catch (error) {
    if (error instanceof HttpTransportError) throw new AttemptError(error.message, true, undefined, { cause: error });
    throw error;
  }
  const status = response.statusCode ?? 0;
  let start = fromByte;
  if (status === 206 && fromByte > 0) {
    if (parseContentRangeStart(response.headers['content-range']) !== fromByte) {
      response.destroy();
      await truncate(filePath, 0);
      throw new AttemptError('server resumed at an unexpected offset; restarting from the beginning', true, status);
    }
  } else if (status === 200 || status === 206) {
    // A server that ignores Range answers 200 with the whole file: start over with this very response.
    start = 0;
    if (fromByte > 0) await truncate(filePath, 0);
  } else {
    response.resume();
    if (status === 416) {
      // Upstream's answer to "range not satisfiable": forget the partial file and start again.
      await truncate(filePath, 0);
      throw new AttemptError('HTTP 416 on resume; restarting from the beginning', true, status);
    }
    throw new AttemptError(`HTTP ${status}`, isRetryableStatus(status), status);
  }

  const declared = Number(response.headers['content-length']);
  if (response.headers['content-length'] !== undefined && Number.isFinite(declared)) {
    if (start + declared > opts.maxSizeBytes) {
      response.destroy();
      throw new VolumeTooLargeError(opts.maxSizeBytes, 'the volume download');
    }
  }
  let received = 0;
  let responseFailed: unknown;
  response.on('error', (error) => {
    responseFailed ??= error;
  });
  response.on('aborted', () => {
    responseFailed ??= new Error('response aborted');
  });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      opts.metrics.downloadBytes.add(chunk.length);
      if (start + received > opts.maxSizeBytes) callback(new VolumeTooLargeError(opts.maxSizeBytes, 'the volume download'));
      else callback(null, chunk);
    },
  });
  try {
    await pipeline(response, counter, createWriteStream(filePath, { flags: 'r+', start }), { signal });
  } catch (error) {
    if (error instanceof HordeError && !(error instanceof HttpTransportError)) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (signal.aborted) throw error;
    if (responseFailed !== undefined || error instanceof HttpTransportError || TRANSIENT_CODES.has(code)) {
      throw new AttemptError(`transfer broken after ${received} bytes: ${(error as Error).message}`, true, status, { cause: error });
    }
    throw error;
  }
  if (Number.isFinite(declared) && response.headers['content-length'] !== undefined && received !== declared) {
    throw new AttemptError(`transfer ended after ${received} of ${declared} bytes`, true, status);
  }
}

/**
 * Downloads `url` into `filePath` with upstream's retry loop: a failed attempt is retried after
 * 1, 2, 4 s × (1 + U(0, 0.1)); a broken transfer resumes with `Range: bytes=<size on disk>-`.
 */
async function downloadToFile(
  url: string,
  filePath: string,
  opts: ResolvedOptions,
  signal: AbortSignal,
): Promise<{ bytes: number; attempts: number }> {
  let release: () => void;
  try {
    release = await opts.semaphore.acquire(signal);
  } catch (error) {
    if (error instanceof ConcurrencyQueueFullError) opts.metrics.transferQueueRejected.add(1, { queue: 'download' });
    throw error;
  }
  try {
    await writeFile(filePath, '');
    let fromByte = 0;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal, 'volume download');
      try {
        await attemptDownload(url, filePath, fromByte, opts, signal);
        opts.metrics.downloadAttempts.add(1, { outcome: 'ok' });
        return { bytes: (await stat(filePath)).size, attempts: attempt };
      } catch (error) {
        if (signal.aborted) throw new ExecutorAbortedError('volume download', { cause: signal.reason });
        if (!(error instanceof AttemptError)) {
          opts.metrics.downloadAttempts.add(1, { outcome: 'failed' });
          throw error;
        }
        if (!error.retryable || attempt > opts.retries) {
          opts.metrics.downloadAttempts.add(1, { outcome: 'failed' });
          throw new VolumeDownloadError(url, error.message, attempt, { cause: error });
        }
        opts.metrics.downloadAttempts.add(1, { outcome: 'retry' });
        // What reached the disk is what we resume from (the write stream is closed by now).
        fromByte = (await stat(filePath)).size;
        await opts.sleep(downloadRetryDelayMs(attempt, opts.random, opts.retryBaseDelayMs, opts.retryJitter), signal);
      }
    }
  } finally {
    release();
  }
}

type Staged =
  | { readonly kind: 'zip'; readonly source: ZipSource; readonly destination: string; readonly bytes: number; readonly attempts: number }
  | { readonly kind: 'file'; readonly stagedPath: string; readonly destination: string; readonly bytes: number; readonly attempts: number };

async function stageLeaf(leaf: LeafVolume, index: number, root: string, stagingDir: string, opts: ResolvedOptions, signal: AbortSignal): Promise<Staged> {
  switch (leaf.volume_type) {
    case 'inline':
      // Inline volumes ride inside a WS message (≤ 50 MiB), so they are already in memory.
      return {
        kind: 'zip',
        source: { kind: 'buffer', buffer: Buffer.from(leaf.contents, 'base64') },
        destination: volumeDestination(root, leaf.relative_path, false),
        bytes: 0,
        attempts: 0,
      };
    case 'zip_url': {
      const destination = volumeDestination(root, leaf.relative_path, false);
      const stagedPath = path.join(stagingDir, `${index}.zip`);
      const { bytes, attempts } = await downloadToFile(leaf.contents, stagedPath, opts, signal);
      return { kind: 'zip', source: { kind: 'file', path: stagedPath }, destination, bytes, attempts };
    }
    case 'single_file': {
      const destination = volumeDestination(root, leaf.relative_path, true);
      const stagedPath = path.join(stagingDir, `${index}.file`);
      const { bytes, attempts } = await downloadToFile(leaf.url, stagedPath, opts, signal);
      return { kind: 'file', stagedPath, destination, bytes, attempts };
    }
    case 'huggingface_volume':
      throw new VolumeUnsupportedError('huggingface_volume', 'no hub is reachable');
  }
}

async function moveInto(stagedPath: string, destination: string): Promise<void> {
  await mkdir(path.dirname(destination), { recursive: true });
  try {
    await rename(stagedPath, destination);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(stagedPath, destination);
    await unlink(stagedPath);
  }
}

/**
 * Downloads a job volume into `targetDir` (inline, zip_url, single_file, multi_volume). HTTP fetches of a
 * multi_volume run concurrently (at most 3 per process, shared with every other download); the parts are then
 * applied in their listed order, so a later part overwrites an earlier one exactly as upstream's sequential loop
 * does. Nothing is written below `targetDir` when any part fails to fetch or is an unsafe zip.
 *
 * @example
 * ```ts
 * await downloadVolume({ volume: { volume_type: 'inline', contents: b64zip }, targetDir: dirs.volumeDir, signal });
 * ```
 */
export async function downloadVolume(input: DownloadVolumeInput): Promise<DownloadVolumeResult> {
  const opts = resolveOptions(input.options);
  const root = path.resolve(input.targetDir);
  throwIfAborted(input.signal, 'volume download');
  const leaves = flattenVolume(input.volume);
  await mkdir(root, { recursive: true });
  const stagingDir = await mkdtemp(path.join(input.options?.stagingParentDir ?? path.dirname(root), '.horde-volume-'));
  const { controller, dispose } = linkedController(input.signal);
  try {
    let firstError: unknown;
    const settled = await Promise.allSettled(
      leaves.map((leaf, index) =>
        stageLeaf(leaf, index, root, stagingDir, opts, controller.signal).catch((error: unknown) => {
          // The first real failure cancels the siblings; their abort errors are not the story.
          firstError ??= error;
          controller.abort(error);
          throw error;
        }),
      ),
    );
    if (input.signal.aborted) throw new ExecutorAbortedError('volume download', { cause: input.signal.reason });
    if (firstError !== undefined) throw toError(firstError);
    const staged = settled.map((result) => (result as PromiseFulfilledResult<Staged>).value);

    let files = 0;
    for (const part of staged) {
      throwIfAborted(input.signal, 'volume download');
      if (part.kind === 'zip') {
        files += (await extractZip({ source: part.source, targetDir: part.destination, maxExtractedBytes: opts.maxExtractedBytes, signal: input.signal })).files;
      } else {
        await moveInto(part.stagedPath, part.destination);
        files++;
      }
    }
    return {
      files,
      downloadedBytes: staged.reduce((sum, part) => sum + part.bytes, 0),
      httpAttempts: staged.reduce((sum, part) => sum + part.attempts, 0),
    };
  } finally {
    dispose();
    await rm(stagingDir, { recursive: true, force: true });
  }
}
