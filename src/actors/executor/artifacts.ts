import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from './abort';
import { ARTIFACT_MAX_BYTES } from './defaults';
import { executorMetrics, type ExecutorMetrics } from './metrics';

export interface SkippedArtifact {
  readonly name: string;
  readonly reason: 'too_large' | 'directory' | 'not_regular_file';
  readonly sizeBytes?: number;
}

export interface CollectArtifactsInput {
  /** Host folder bound to the job's artifacts dir. */
  readonly hostDir: string;
  /** The job's `artifacts_dir` as the container saw it: keys are `${artifactsDir}/${name}`, exactly as upstream. */
  readonly artifactsDir: string;
  readonly signal: AbortSignal;
  readonly maxBytes?: number;
  readonly metrics?: ExecutorMetrics;
}

export interface CollectArtifactsResult {
  /** base64 contents keyed `${artifactsDir}/${name}` (`V0JobFinishedRequest.artifacts`). */
  readonly artifacts: Readonly<Record<string, string>>;
  /** What was left out and why (upstream only logs it). */
  readonly skipped: readonly SkippedArtifact[];
}

/**
 * Collects the files directly inside the artifacts folder that are strictly smaller than 1,000,000 bytes, base64
 * encoded. Folders and larger files are skipped and reported, as upstream logs them; symlinks and other special
 * files are skipped too (upstream's `isfile` follows a symlink, which would send a host file the job pointed at).
 *
 * @example
 * ```ts
 * const { artifacts } = await collectArtifacts({ hostDir: dirs.artifactsDir, artifactsDir: '/artifacts', signal });
 * ```
 */
export async function collectArtifacts(input: CollectArtifactsInput): Promise<CollectArtifactsResult> {
  const maxBytes = input.maxBytes ?? ARTIFACT_MAX_BYTES;
  const metrics = input.metrics ?? executorMetrics();
  const artifacts: Record<string, string> = {};
  const skipped: SkippedArtifact[] = [];
  const skip = (entry: SkippedArtifact): void => {
    skipped.push(entry);
    metrics.artifactsSkipped.add(1, { reason: entry.reason });
  };
  for (const name of (await readdir(input.hostDir)).sort()) {
    throwIfAborted(input.signal, 'collecting artifacts');
    const filePath = path.join(input.hostDir, name);
    const stats = await lstat(filePath);
    if (stats.isDirectory()) {
      skip({ name, reason: 'directory' });
      continue;
    }
    if (!stats.isFile()) {
      skip({ name, reason: 'not_regular_file' });
      continue;
    }
    if (stats.size >= maxBytes) {
      skip({ name, reason: 'too_large', sizeBytes: stats.size });
      continue;
    }
    // Read at most maxBytes: the size on disk is checked again on what was actually read.
    const handle = await open(filePath, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length >= maxBytes) break;
      }
      if (length >= maxBytes) {
        skip({ name, reason: 'too_large', sizeBytes: length });
        continue;
      }
      artifacts[`${input.artifactsDir}/${name}`] = buffer.subarray(0, length).toString('base64');
    } finally {
      await handle.close();
    }
  }
  return { artifacts, skipped };
}
