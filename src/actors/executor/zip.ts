import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { HordeError } from '../../util/errors';
import {
  ExecutorAbortedError,
  UploadRejectedError,
  VolumeBadZipError,
  VolumeTooLargeError,
  VolumeUnsafeZipError,
} from './errors';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;

interface PlannedEntry {
  readonly entry: yauzl.Entry;
  readonly destination: string;
  readonly isDirectory: boolean;
}

/** True when `candidate` is `root` or lies below it (both absolute and resolved). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Where an entry would land, or why it must not be extracted. Pure: tested on its own.
 * Refused: absolute names, drive letters, `..` segments (also after backslash normalisation), symlinks and other
 * special files (Unix mode in the external attributes), and anything resolving outside `root`.
 */
export function planZipEntry(
  root: string,
  name: string,
  externalFileAttributes: number,
  versionMadeBy: number,
): { destination: string; isDirectory: boolean } {
  const invalid = yauzl.validateFileName(name);
  if (invalid !== null) throw new VolumeUnsafeZipError(name, invalid);
  if ((versionMadeBy >> 8) === MADE_BY_UNIX) {
    const type = (externalFileAttributes >>> 16) & S_IFMT;
    if (type === S_IFLNK) throw new VolumeUnsafeZipError(name, 'symbolic links are not extracted');
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw new VolumeUnsafeZipError(name, 'special files are not extracted');
  }
  const destination = path.resolve(root, name);
  if (!isInside(root, destination)) throw new VolumeUnsafeZipError(name, 'resolves outside the target folder');
  return { destination, isDirectory: name.endsWith('/') };
}

export type ZipSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'buffer'; readonly buffer: Buffer };

export interface ExtractZipInput {
  readonly source: ZipSource;
  readonly targetDir: string;
  /** Upper bound of the bytes all entries expand to (declared sizes first, then counted while writing). */
  readonly maxExtractedBytes: number;
  readonly signal: AbortSignal;
}

const YAUZL_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false,
  // Names are decoded and checked by planZipEntry so that an unsafe name is reported as unsafe, not as a bad zip.
  decodeStrings: false,
  validateEntrySizes: true,
  strictFileNames: false,
};

function badZip(error: unknown): VolumeBadZipError {
  return new VolumeBadZipError(error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * Extracts a zip below `targetDir`, refusing the whole archive (before writing anything) when any entry would
 * escape it. Entries are streamed to disk one at a time; permissions in the archive are ignored (as Python's
 * `extractall` does).
 *
 * @example
 * ```ts
 * await extractZip({ source: { kind: 'file', path: '/tmp/v.zip' }, targetDir: '/job/volume', maxExtractedBytes: 8 << 30, signal });
 * ```
 */
export async function extractZip(input: ExtractZipInput): Promise<{ files: number; bytes: number }> {
  const root = path.resolve(input.targetDir);
  let zip: yauzl.ZipFile;
  try {
    zip =
      input.source.kind === 'buffer'
        ? await yauzl.fromBufferPromise(input.source.buffer, YAUZL_OPTIONS)
        : await yauzl.openPromise(input.source.path, YAUZL_OPTIONS);
  } catch (error) {
    throw badZip(error);
  }
  try {
    const planned: PlannedEntry[] = [];
    let declaredBytes = 0;
    try {
      for await (const entry of zip.eachEntry()) {
        if (input.signal.aborted) throw new ExecutorAbortedError('zip extraction', { cause: input.signal.reason });
        const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
        const plan = planZipEntry(root, name, entry.externalFileAttributes, entry.versionMadeBy);
        if (entry.isEncrypted()) throw new VolumeBadZipError(`entry ${JSON.stringify(name)} is encrypted`);
        declaredBytes += entry.uncompressedSize;
        planned.push({ entry, ...plan });
      }
    } catch (error) {
      throw error instanceof HordeError ? error : badZip(error);
    }
    if (declaredBytes > input.maxExtractedBytes) throw new VolumeTooLargeError(input.maxExtractedBytes, 'the unzipped volume');

    await mkdir(root, { recursive: true });
    let written = 0;
    let files = 0;
    for (const { entry, destination, isDirectory } of planned) {
      if (isDirectory) {
        await mkdir(destination, { recursive: true });
        continue;
      }
      await mkdir(path.dirname(destination), { recursive: true });
      let source: Readable;
      try {
        source = await zip.openReadStreamPromise(entry);
      } catch (error) {
        throw badZip(error);
      }
      // yauzl's own size validation guards declared sizes; this counter guards the sum against a lying archive.
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          written += chunk.length;
          if (written > input.maxExtractedBytes) callback(new VolumeTooLargeError(input.maxExtractedBytes, 'the unzipped volume'));
          else callback(null, chunk);
        },
      });
      let readFailed: unknown;
      source.on('error', (error) => {
        readFailed ??= error;
      });
      try {
        await pipeline(source, counter, createWriteStream(destination), { signal: input.signal });
      } catch (error) {
        if (input.signal.aborted) throw new ExecutorAbortedError('zip extraction', { cause: input.signal.reason });
        if (error instanceof HordeError) throw error;
        if (readFailed !== undefined) throw badZip(readFailed);
        const code = (error as NodeJS.ErrnoException).code;
        // A file entry clashing with a folder entry (or the reverse) is the archive's fault, not the disk's.
        if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') throw badZip(error);
        throw error;
      }
      files++;
    }
    return { files, bytes: written };
  } finally {
    zip.close();
  }
}

export interface ZipDirectoryInput {
  readonly dir: string;
  /** Where to write the archive (outside `dir`). */
  readonly outPath: string;
  /** Paths relative to `dir` to leave out (multi_upload's single files). */
  readonly exclude?: readonly string[];
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

export interface ZipDirectoryResult {
  readonly sizeBytes: number;
  readonly entries: number;
  /** Relative paths not archived because they are symlinks or special files (never followed: they could point at host files). */
  readonly skipped: readonly string[];
}

/**
 * Archives a folder as upstream's `zipped_directory` does: every file and folder below it (folders count towards
 * the entry limit), names relative to it, stored without compression (Python's `ZipFile` default). Refuses more
 * than `maxEntries` entries, and stops writing as soon as the archive exceeds `maxBytes`.
 *
 * @example
 * ```ts
 * const { sizeBytes } = await zipDirectory({ dir: out, outPath: '/tmp/o.zip', maxEntries: 1000, maxBytes: 2 << 30, signal });
 * ```
 */
export async function zipDirectory(input: ZipDirectoryInput): Promise<ZipDirectoryResult> {
  const exclude = new Set((input.exclude ?? []).map((relative) => path.posix.normalize(relative.split(path.sep).join('/'))));
  const items: Array<{ relative: string; real: string; isDirectory: boolean }> = [];
  const skipped: string[] = [];

  const walk = async (dir: string, prefix: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const real = path.join(dir, name);
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      const stats = await lstat(real);
      if (stats.isDirectory()) {
        if (!exclude.has(relative)) items.push({ relative, real, isDirectory: true });
        await walk(real, relative);
      } else if (stats.isFile()) {
        if (!exclude.has(relative)) items.push({ relative, real, isDirectory: false });
      } else {
        skipped.push(relative);
      }
      if (items.length > input.maxEntries) {
        throw new UploadRejectedError(`output has more than ${input.maxEntries} files and folders to zip`);
      }
    }
  };
  await walk(input.dir, '');

  const zip = new yazl.ZipFile();
  for (const item of items) {
    if (item.isDirectory) zip.addEmptyDirectory(item.relative);
    else zip.addFile(item.real, item.relative, { compress: false });
  }
  zip.end();
  let sizeBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sizeBytes += chunk.length;
      if (sizeBytes > input.maxBytes) callback(new UploadRejectedError(`output zip exceeds ${input.maxBytes} bytes`));
      else callback(null, chunk);
    },
  });
  try {
    await pipeline(zip.outputStream as Readable, counter, createWriteStream(input.outPath), { signal: input.signal });
  } catch (error) {
    if (input.signal.aborted) throw new ExecutorAbortedError('zipping the output', { cause: input.signal.reason });
    throw error;
  }
  return { sizeBytes, entries: items.length, skipped };
}
