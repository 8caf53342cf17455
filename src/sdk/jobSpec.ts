/**
 * A friendly job description (`JobSpec`) and its translation into the facilitator's create-job body: files become an
 * inline zip volume, `/output/...` paths become single-file uploads, seconds get upstream's field names.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { ZipFile } from 'yazl';
import type { SingleFileUpload } from '../protocol/output-upload';
import type { SingleVolume } from '../protocol/volume';
import {
  SDK_DEFAULT_DOWNLOAD_TIME_LIMIT_S,
  SDK_DEFAULT_EXECUTION_TIME_LIMIT_S,
  SDK_DEFAULT_STREAMING_START_TIME_LIMIT_S,
  SDK_DEFAULT_UPLOAD_TIME_LIMIT_S,
  SDK_INLINE_VOLUME_MAX_BYTES,
} from './defaults';
import { JobSpecError } from './errors';
import type { CreateJobBodyInput, RequestableExecutorClass } from './facilitatorApi';

/** Where job inputs appear inside the container (upstream requires input paths under it). */
export const JOB_VOLUME_ROOT = '/volume';
/** Where the job writes outputs to be uploaded (upstream requires output paths under it). */
export const JOB_OUTPUT_ROOT = '/output';

/** An input volume. Paths (`at`) are inside the job's `/volume/` folder; `/volume/` itself may be written or not. */
export type VolumeSpec =
  /** Files given in memory (name → contents), zipped into an inline volume. */
  | { readonly kind: 'inline'; readonly files: Readonly<Record<string, string | Uint8Array>>; readonly at?: string }
  /** Local files or folders (folders recursively), zipped into an inline volume; each keeps its base name. */
  | { readonly kind: 'local'; readonly paths: readonly string[]; readonly at?: string }
  /** A zip already in memory, sent inline. */
  | { readonly kind: 'zip'; readonly zip: Uint8Array; readonly at?: string }
  /** A zip the executor downloads and unpacks. */
  | { readonly kind: 'zip_url'; readonly url: string; readonly at?: string }
  /** One file the executor downloads to `at`. */
  | { readonly kind: 'url'; readonly url: string; readonly at: string }
  /** A Hugging Face snapshot. */
  | {
      readonly kind: 'huggingface';
      readonly repoId: string;
      readonly repoType?: string;
      readonly revision?: string;
      readonly allowPatterns?: string | readonly string[];
      readonly token?: string;
      readonly at?: string;
    };

/** An output file the executor uploads after the job (`path` inside `/output/`). */
export type UploadSpec =
  | { readonly method: 'PUT'; readonly url: string; readonly path: string; readonly signedHeaders?: Readonly<Record<string, string>> }
  | {
      readonly method: 'POST';
      readonly url: string;
      readonly path: string;
      readonly formFields?: Readonly<Record<string, string>>;
      readonly signedHeaders?: Readonly<Record<string, string>>;
    };

/**
 * What to run. Only `executorClass` and `image` are required; time limits default to the `SDK_DEFAULT_*` constants.
 *
 * @example
 * ```ts
 * const spec: JobSpec = {
 *   executorClass: 'always_on.test', image: 'alpine', command: ['sh', '-c', 'cat /volume/in.txt > /output/out.txt'],
 *   volumes: [{ kind: 'inline', files: { 'in.txt': 'hello' } }],
 *   uploads: [{ method: 'PUT', url: 'https://example.com/out', path: 'out.txt' }],
 *   artifactsDir: '/artifacts',
 * };
 * ```
 */
export interface JobSpec {
  readonly executorClass: RequestableExecutorClass;
  readonly image: string;
  /** The container's command (upstream `args`). */
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Where the job comes from (`SN123.0`); defaults to the image on the validator. */
  readonly namespace?: string;
  /** Free text to find jobs again (`listJobs({ tag })`). */
  readonly tag?: string;
  /** Folder whose small files (< 1 MB) come back base64-encoded in `artifacts`. */
  readonly artifactsDir?: string;
  readonly volumes?: readonly VolumeSpec[];
  readonly uploads?: readonly UploadSpec[];
  readonly onTrustedMiner?: boolean;
  /** Validator to send the job to; absent: the facilitator picks one. */
  readonly targetValidatorHotkey?: string;
  readonly downloadTimeLimitS?: number;
  readonly executionTimeLimitS?: number;
  readonly uploadTimeLimitS?: number;
  readonly streamingStartTimeLimitS?: number;
}

/**
 * Builds the `POST /api/v1/job-docker/` body of a spec (zipping inline volumes). Throws `JobSpecError` for a spec that
 * cannot be sent: unreadable files, an inline zip over `SDK_INLINE_VOLUME_MAX_BYTES`, paths outside the job's folders,
 * negative or fractional time limits.
 *
 * @example
 * ```ts
 * const body = await createJobBody({ executorClass: 'always_on.test', image: 'alpine', command: ['echo', 'hi'] });
 * ```
 */
export async function createJobBody(spec: JobSpec): Promise<CreateJobBodyInput> {
  if (spec.image.trim() === '') throw new JobSpecError('the job needs a docker image');
  const volumes: SingleVolume[] = [];
  for (const volume of spec.volumes ?? []) volumes.push(await volumeOf(volume));
  const body: CreateJobBodyInput = {
    executor_class: spec.executorClass,
    docker_image: spec.image,
    args: [...(spec.command ?? [])],
    env: { ...(spec.env ?? {}) },
    use_gpu: false,
    volumes,
    uploads: (spec.uploads ?? []).map(uploadOf),
    on_trusted_miner: spec.onTrustedMiner ?? false,
    download_time_limit: seconds('downloadTimeLimitS', spec.downloadTimeLimitS, SDK_DEFAULT_DOWNLOAD_TIME_LIMIT_S),
    execution_time_limit: seconds('executionTimeLimitS', spec.executionTimeLimitS, SDK_DEFAULT_EXECUTION_TIME_LIMIT_S),
    streaming_start_time_limit: seconds(
      'streamingStartTimeLimitS',
      spec.streamingStartTimeLimitS,
      SDK_DEFAULT_STREAMING_START_TIME_LIMIT_S,
    ),
    upload_time_limit: seconds('uploadTimeLimitS', spec.uploadTimeLimitS, SDK_DEFAULT_UPLOAD_TIME_LIMIT_S),
  };
  if (spec.artifactsDir !== undefined) body.artifacts_dir = spec.artifactsDir;
  if (spec.namespace !== undefined) body.job_namespace = spec.namespace;
  if (spec.tag !== undefined) body.tag = spec.tag;
  if (spec.targetValidatorHotkey !== undefined) body.target_validator_hotkey = spec.targetValidatorHotkey;
  return body;
}

function seconds(name: string, value: number | undefined, fallback: number): number {
  const s = value ?? fallback;
  if (!Number.isSafeInteger(s) || s < 0) throw new JobSpecError(`${name} must be a whole number of seconds >= 0 (got ${String(value)})`);
  return s;
}

/** `"/volume/data"`, `"data"` or `"data/"` → `"data"`; undefined/`"/volume"` → null (the volume root). */
function relativeUnder(root: string, path: string | undefined, what: string): string | null {
  if (path === undefined) return null;
  let rel = path;
  if (rel === root || rel === `${root}/`) return null;
  if (rel.startsWith(`${root}/`)) rel = rel.slice(root.length + 1);
  else if (rel.startsWith('/')) throw new JobSpecError(`${what} ${path} must be under ${root}/`);
  rel = posix.normalize(rel).replace(/\/+$/, '');
  if (rel === '.' || rel === '') return null;
  if (rel.startsWith('..')) throw new JobSpecError(`${what} ${path} must stay inside ${root}/`);
  return rel;
}

async function volumeOf(volume: VolumeSpec): Promise<SingleVolume> {
  switch (volume.kind) {
    case 'inline':
      return inline(await zipEntries(Object.entries(volume.files).map(([name, contents]) => ({ name, contents }))), volume.at);
    case 'local':
      return inline(await zipEntries(await localEntries(volume.paths)), volume.at);
    case 'zip':
      return inline(Buffer.from(volume.zip), volume.at);
    case 'zip_url':
      return { volume_type: 'zip_url', contents: volume.url, relative_path: relativeUnder(JOB_VOLUME_ROOT, volume.at, 'volume path') };
    case 'url': {
      const at = relativeUnder(JOB_VOLUME_ROOT, volume.at, 'volume path');
      if (at === null) throw new JobSpecError(`a downloaded file needs a file name under ${JOB_VOLUME_ROOT}/`);
      return { volume_type: 'single_file', url: volume.url, relative_path: at };
    }
    case 'huggingface':
      return {
        volume_type: 'huggingface_volume',
        repo_id: volume.repoId,
        repo_type: volume.repoType ?? null,
        revision: volume.revision ?? null,
        relative_path: relativeUnder(JOB_VOLUME_ROOT, volume.at, 'volume path'),
        allow_patterns: volume.allowPatterns === undefined ? null : typeof volume.allowPatterns === 'string' ? volume.allowPatterns : [...volume.allowPatterns],
        token: volume.token ?? null,
      };
  }
}

function inline(zip: Buffer, at: string | undefined): SingleVolume {
  if (zip.length > SDK_INLINE_VOLUME_MAX_BYTES) {
    throw new JobSpecError(
      `an inline volume is ${zip.length} bytes zipped, over ${SDK_INLINE_VOLUME_MAX_BYTES}: serve it over HTTP (kind 'zip_url' or 'url')`,
    );
  }
  return { volume_type: 'inline', contents: zip.toString('base64'), relative_path: relativeUnder(JOB_VOLUME_ROOT, at, 'volume path') };
}

function uploadOf(upload: UploadSpec): SingleFileUpload {
  const relative = relativeUnder(JOB_OUTPUT_ROOT, upload.path, 'upload path');
  if (relative === null) throw new JobSpecError(`an upload needs a file name under ${JOB_OUTPUT_ROOT}/ (got ${upload.path})`);
  const signed = upload.signedHeaders === undefined ? null : { ...upload.signedHeaders };
  return upload.method === 'PUT'
    ? { output_upload_type: 'single_file_put', url: upload.url, relative_path: relative, signed_headers: signed }
    : {
        output_upload_type: 'single_file_post',
        url: upload.url,
        form_fields: upload.formFields === undefined ? null : { ...upload.formFields },
        relative_path: relative,
        signed_headers: signed,
      };
}

interface ZipEntry {
  readonly name: string;
  readonly contents: string | Uint8Array;
}

async function localEntries(paths: readonly string[]): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  let total = 0;
  const visit = async (path: string, name: string): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new JobSpecError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (info.isDirectory()) {
      for (const child of (await readdir(path)).sort()) await visit(join(path, child), `${name}/${child}`);
      return;
    }
    total += info.size;
    // stop reading before memory holds far more than could ever be sent
    if (total > SDK_INLINE_VOLUME_MAX_BYTES * 2) {
      throw new JobSpecError(`the files of an inline volume exceed ${SDK_INLINE_VOLUME_MAX_BYTES * 2} bytes: serve them over HTTP`);
    }
    entries.push({ name, contents: await readFile(path) });
  };
  for (const path of paths) await visit(path, basename(path));
  return entries;
}

/** Zips entries in memory (deterministic: fixed timestamps, given order). */
export function zipEntries(entries: readonly ZipEntry[]): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const zip = new ZipFile();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    const mtime = new Date(Date.UTC(2000, 0, 1));
    try {
      for (const entry of entries) {
        const name = posix.normalize(entry.name.replace(/^\/+/, ''));
        if (name.startsWith('..') || name === '.' || name === '') throw new JobSpecError(`bad file name in a volume: ${entry.name}`);
        const data = typeof entry.contents === 'string' ? Buffer.from(entry.contents, 'utf8') : Buffer.from(entry.contents);
        zip.addBuffer(data, name, { mtime });
      }
      zip.end();
    } catch (error) {
      reject(error instanceof JobSpecError ? error : new JobSpecError(`cannot zip the volume: ${(error as Error).message}`, { cause: error }));
    }
  });
}
