import * as yauzl from 'yauzl';
import * as yazl from 'yazl';

/** Zip archives for executor tests, including malicious ones yazl itself would refuse to write. */

export interface ZipFixtureEntry {
  readonly name: string;
  readonly data?: string | Buffer;
  readonly mode?: number;
  readonly directory?: boolean;
  /**
   * The name to patch into the archive after writing (same byte length as `name`): how entries named `../x` or
   * `/etc/x` are made, since yazl validates names.
   */
  readonly patchedName?: string;
}

export async function makeZip(entries: readonly ZipFixtureEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.directory) zip.addEmptyDirectory(entry.name);
    else zip.addBuffer(Buffer.from(entry.data ?? ''), entry.name, entry.mode === undefined ? {} : { mode: entry.mode });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let archive: Buffer = Buffer.concat(chunks);
  for (const entry of entries) {
    if (entry.patchedName === undefined) continue;
    const from = Buffer.from(entry.name);
    const to = Buffer.from(entry.patchedName);
    if (from.length !== to.length) throw new Error('patchedName must have the same byte length as name');
    archive = replaceAll(archive, from, to);
  }
  return archive;
}

function replaceAll(buffer: Buffer, from: Buffer, to: Buffer): Buffer {
  const out = Buffer.from(buffer);
  let at = out.indexOf(from);
  while (at >= 0) {
    to.copy(out, at);
    at = out.indexOf(from, at + from.length);
  }
  return out;
}

/** Reads every file entry of a zip (test-sized) into a name → text map. */
export async function readZip(buffer: Buffer): Promise<Map<string, string>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true });
  const files = new Map<string, string>();
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith('/')) {
      files.set(entry.fileName, '<dir>');
      continue;
    }
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    files.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
  }
  return files;
}
