import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { downloadVolume, Semaphore, type Volume, type VolumeDownloadOptions } from '../../../src/actors/executor';
import { redirectTo, serveBytes, startHttpFixture, statusSequence, unreachableUrl, type HttpFixture } from '../../support/httpFixtures';
import { makeZip } from './zipFixtures';

let server: HttpFixture;
let work: string;
let target: string;
let sleeps: number[];

/** Fast, recorded retries: the delays are asserted instead of waited for. */
function fastOptions(extra: VolumeDownloadOptions = {}): VolumeDownloadOptions {
  return {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
    ...extra,
  };
}

async function download(volume: Volume, extra: VolumeDownloadOptions = {}) {
  return downloadVolume({ volume, targetDir: target, signal: new AbortController().signal, options: fastOptions(extra) });
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((entry) => entry.split(path.sep).join('/')).sort();
}

beforeEach(async () => {
  server = await startHttpFixture();
  work = await mkdtemp(path.join(os.tmpdir(), 'horde-volumes-'));
  target = path.join(work, 'volume');
  sleeps = [];
});

afterEach(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

describe('downloadVolume', () => {
  it('unzips an inline (base64) volume, under relative_path when given', async () => {
    const zip = await makeZip([
      { name: 'input.txt', data: 'hello' },
      { name: 'nested/', directory: true },
      { name: 'nested/deep.txt', data: 'deep' },
    ]);
    const result = await download({ volume_type: 'inline', contents: zip.toString('base64'), relative_path: 'data' });
    expect(result.files).toBe(2);
    expect(await readFile(path.join(target, 'data/input.txt'), 'utf8')).toBe('hello');
    expect(await readFile(path.join(target, 'data/nested/deep.txt'), 'utf8')).toBe('deep');
    // Staging folders are gone.
    expect(await readdir(work)).toEqual(['volume']);
  });

  it('downloads and unzips a zip_url volume, following a redirect', async () => {
    server.on('GET', '/moved.zip', redirectTo('/real.zip'));
    server.on('GET', '/real.zip', serveBytes(await makeZip([{ name: 'a.txt', data: 'from url' }])));
    await download({ volume_type: 'zip_url', contents: server.url('/moved.zip') });
    expect(await readFile(path.join(target, 'a.txt'), 'utf8')).toBe('from url');
  });

  it('saves a single_file volume at its relative_path', async () => {
    server.on('GET', '/weights.bin', serveBytes(Buffer.from('binary-ish')));
    await download({ volume_type: 'single_file', url: server.url('/weights.bin'), relative_path: 'models/w.bin' });
    expect(await readFile(path.join(target, 'models/w.bin'), 'utf8')).toBe('binary-ish');
  });

  it('applies multi_volume parts in order, so a later part overwrites an earlier one', async () => {
    server.on('GET', '/one.zip', serveBytes(await makeZip([{ name: 'same.txt', data: 'first' }, { name: 'one.txt', data: '1' }])));
    server.on('GET', '/two.txt', serveBytes(Buffer.from('second')));
    await download({
      volume_type: 'multi_volume',
      volumes: [
        { volume_type: 'zip_url', contents: server.url('/one.zip') },
        { volume_type: 'single_file', url: server.url('/two.txt'), relative_path: 'same.txt' },
      ],
    });
    expect(await readFile(path.join(target, 'same.txt'), 'utf8')).toBe('second');
    expect(await readFile(path.join(target, 'one.txt'), 'utf8')).toBe('1');
  });

  it('runs at most 3 downloads at once (the per-process semaphore)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    for (let i = 0; i < 6; i++) {
      server.on('GET', `/f${i}`, async (_req, res) => {
        await gate;
        res.end(`file ${i}`);
      });
    }
    const slots = new Semaphore('test downloads', 3, 100);
    const pending = download(
      {
        volume_type: 'multi_volume',
        volumes: Array.from({ length: 6 }, (_, i) => ({ volume_type: 'single_file' as const, url: server.url(`/f${i}`), relative_path: `f${i}` })),
      },
      { semaphore: slots },
    );
    while (server.inFlight.current < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    // Give a fourth request every chance to sneak in before opening the gate.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slots.waiting).toBe(3);
    release();
    await pending;
    expect(server.inFlight.max).toBe(3);
    expect(await listTree(target)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
  });

  it.each([
    ['a parent-directory entry', [{ name: 'XX/evil.txt', patchedName: '../evil.txt', data: 'pwned' }]],
    ['an absolute entry', [{ name: 'Xtmp/evil.txt', patchedName: '/tmp/evil.txt', data: 'pwned' }]],
    ['a symlink entry', [{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]],
  ])('refuses a zip with %s and extracts nothing (zip slip)', async (_label, entries) => {
    const zip = await makeZip([{ name: 'ok.txt', data: 'fine' }, ...entries]);
    await expect(download({ volume_type: 'inline', contents: zip.toString('base64') })).rejects.toMatchObject({
      code: 'executor.volume_unsafe_zip',
    });
    expect(await listTree(target)).toEqual([]);
    expect(await readdir(work)).toEqual(['volume']);
  });

  it('reports a corrupt archive as volume_bad_zip', async () => {
    server.on('GET', '/bad.zip', serveBytes(Buffer.from('this is not a zip file at all, just text')));
    await expect(download({ volume_type: 'zip_url', contents: server.url('/bad.zip') })).rejects.toMatchObject({
      code: 'executor.volume_bad_zip',
    });
  });

  it('retries an unreachable URL 3 times after 1, 2 and 4 s, then fails with volume_download_failed', async () => {
    const url = await unreachableUrl();
    await expect(download({ volume_type: 'zip_url', contents: url })).rejects.toMatchObject({
      code: 'executor.volume_download_failed',
      attempts: 4,
    });
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it('retries a 503 and succeeds when the server recovers', async () => {
    const zip = await makeZip([{ name: 'x.txt', data: 'recovered' }]);
    const unavailable = statusSequence([503]);
    const serve = serveBytes(zip);
    let calls = 0;
    server.on('GET', '/flaky.zip', (req, res, body) => (++calls === 1 ? unavailable(req, res, body) : serve(req, res, body)));
    await download({ volume_type: 'zip_url', contents: server.url('/flaky.zip') });
    expect(await readFile(path.join(target, 'x.txt'), 'utf8')).toBe('recovered');
    expect(sleeps).toHaveLength(1);
  });

  it('does not retry a 404', async () => {
    server.on('GET', '/missing.zip', statusSequence([404]));
    await expect(download({ volume_type: 'zip_url', contents: server.url('/missing.zip') })).rejects.toMatchObject({
      code: 'executor.volume_download_failed',
      attempts: 1,
    });
    expect(sleeps).toEqual([]);
  });

  it('resumes with a Range request after the server cuts the first transfer', async () => {
    const payload = Buffer.alloc(256 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) % 251;
    server.on('GET', '/big.bin', serveBytes(payload, { cutFirstAfterBytes: 100 * 1024 }));
    const result = await download({ volume_type: 'single_file', url: server.url('/big.bin'), relative_path: 'big.bin' });
    expect(Buffer.compare(await readFile(path.join(target, 'big.bin')), payload)).toBe(0);
    const ranges = server.requests.map((r) => r.headers.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges[1]!)![0])).toBeGreaterThan(0);
    expect(result.httpAttempts).toBe(2);
  });

  it('starts over when a server ignores Range and sends the whole file again', async () => {
    const payload = Buffer.from('0123456789'.repeat(20_000));
    server.on('GET', '/norange.bin', serveBytes(payload, { cutFirstAfterBytes: 50_000, ignoreRange: true }));
    await download({ volume_type: 'single_file', url: server.url('/norange.bin'), relative_path: 'n.bin' });
    expect(Buffer.compare(await readFile(path.join(target, 'n.bin')), payload)).toBe(0);
  });

  it('refuses a download whose Content-Length exceeds the limit before reading it', async () => {
    server.on('GET', '/huge.bin', serveBytes(Buffer.alloc(4096)));
    await expect(
      download({ volume_type: 'single_file', url: server.url('/huge.bin'), relative_path: 'h.bin' }, { maxSizeBytes: 1024 }),
    ).rejects.toMatchObject({ code: 'executor.volume_too_large' });
    expect(sleeps).toEqual([]);
  });

  it('refuses a stream that grows past the limit without a Content-Length', async () => {
    server.on('GET', '/chunked.bin', (_req, res) => {
      res.write(Buffer.alloc(800));
      res.end(Buffer.alloc(800));
    });
    await expect(
      download({ volume_type: 'single_file', url: server.url('/chunked.bin'), relative_path: 'c.bin' }, { maxSizeBytes: 1024 }),
    ).rejects.toMatchObject({ code: 'executor.volume_too_large' });
  });

  it('refuses a zip that expands beyond the extraction limit (zip bomb)', async () => {
    const zip = await makeZip([{ name: 'zeros.bin', data: Buffer.alloc(100_000) }]);
    await expect(
      download({ volume_type: 'inline', contents: zip.toString('base64') }, { maxExtractedBytes: 10_000 }),
    ).rejects.toMatchObject({ code: 'executor.volume_too_large' });
  });

  it('reports huggingface volumes as unsupported here', async () => {
    await expect(download({ volume_type: 'huggingface_volume', repo_id: 'org/model' })).rejects.toMatchObject({
      code: 'executor.volume_unsupported',
    });
  });

  it('stops waiting and reports executor.aborted when the caller aborts', async () => {
    server.on('GET', '/slow.bin', () => {
      // never answers
    });
    const controller = new AbortController();
    const pending = downloadVolume({
      volume: { volume_type: 'single_file', url: server.url('/slow.bin'), relative_path: 's.bin' },
      targetDir: target,
      signal: controller.signal,
      options: fastOptions({ idleTimeoutMs: 60_000 }),
    });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'executor.aborted' });
  });
});
