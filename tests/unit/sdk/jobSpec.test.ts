import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { createJobBody, JobSpecError, SDK_DEFAULT_EXECUTION_TIME_LIMIT_S, SDK_DEFAULT_STREAMING_START_TIME_LIMIT_S } from '../../../src/sdk';
import { validateCreateJobBody } from '../../../src/sdk/facilitatorApi';

function unzip(buffer: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const files: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files[entry.fileName] = Buffer.concat(chunks).toString('utf8');
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(files));
      zip.readEntry();
    });
  });
}

const BASE = { executorClass: 'always_on.test', image: 'alpine' } as const;

describe('createJobBody', () => {
  it('fills upstream field names and the default time limits', async () => {
    const body = await createJobBody({ ...BASE, command: ['echo', 'hi'], env: { A: '1' }, artifactsDir: '/artifacts', tag: 't' });
    expect(body).toMatchObject({
      executor_class: 'always_on.test',
      docker_image: 'alpine',
      args: ['echo', 'hi'],
      env: { A: '1' },
      artifacts_dir: '/artifacts',
      tag: 't',
      execution_time_limit: SDK_DEFAULT_EXECUTION_TIME_LIMIT_S,
      streaming_start_time_limit: SDK_DEFAULT_STREAMING_START_TIME_LIMIT_S,
    });
    expect(validateCreateJobBody(body).ok).toBe(true);
  });

  it('zips in-memory files into an inline volume under /volume/', async () => {
    const body = await createJobBody({ ...BASE, volumes: [{ kind: 'inline', files: { 'in.txt': 'hello', 'd/x.txt': 'x' }, at: '/volume/data' }] });
    const volume = body.volumes![0] as { volume_type: string; contents: string; relative_path: string };
    expect(volume.volume_type).toBe('inline');
    expect(volume.relative_path).toBe('data');
    expect(await unzip(Buffer.from(volume.contents, 'base64'))).toEqual({ 'in.txt': 'hello', 'd/x.txt': 'x' });
    expect(validateCreateJobBody(body).ok).toBe(true);
  });

  it('zips local files and folders by their base names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'horde-sdk-spec-'));
    try {
      await writeFile(join(dir, 'a.txt'), 'A');
      await mkdir(join(dir, 'folder'));
      await writeFile(join(dir, 'folder', 'b.txt'), 'B');
      const body = await createJobBody({ ...BASE, volumes: [{ kind: 'local', paths: [join(dir, 'a.txt'), join(dir, 'folder')] }] });
      const volume = body.volumes![0] as { contents: string; relative_path: string | null };
      expect(volume.relative_path).toBeNull();
      expect(await unzip(Buffer.from(volume.contents, 'base64'))).toEqual({ 'a.txt': 'A', 'folder/b.txt': 'B' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns /output/ paths into single-file uploads', async () => {
    const body = await createJobBody({
      ...BASE,
      uploads: [
        { method: 'PUT', url: 'http://h/put', path: '/output/a.txt' },
        { method: 'POST', url: 'http://h/post', path: 'b.txt', formFields: { k: 'v' } },
      ],
    });
    expect(body.uploads).toEqual([
      { output_upload_type: 'single_file_put', url: 'http://h/put', relative_path: 'a.txt', signed_headers: null },
      { output_upload_type: 'single_file_post', url: 'http://h/post', form_fields: { k: 'v' }, relative_path: 'b.txt', signed_headers: null },
    ]);
  });

  it.each([
    [{ ...BASE, uploads: [{ method: 'PUT' as const, url: 'u', path: '/etc/passwd' }] }, 'must be under /output/'],
    [{ ...BASE, volumes: [{ kind: 'url' as const, url: 'u', at: '/volume/../x' }] }, 'must stay inside'],
    [{ ...BASE, volumes: [{ kind: 'local' as const, paths: ['/nonexistent/horde'] }] }, 'cannot read'],
    [{ ...BASE, executionTimeLimitS: 1.5 }, 'whole number'],
    [{ ...BASE, image: ' ' }, 'docker image'],
  ])('refuses a spec it cannot send (%#)', async (spec, message) => {
    const error = (await createJobBody(spec).catch((e: unknown) => e)) as JobSpecError;
    expect(error).toBeInstanceOf(JobSpecError);
    expect(error.message).toContain(message);
  });
});
