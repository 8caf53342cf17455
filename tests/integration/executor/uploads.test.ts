import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uploadOutput, writeStdStreamsToOutput, type OutputUpload, type UploadOptions } from '../../../src/actors/executor';
import { parseMultipart, startHttpFixture, statusSequence, unreachableUrl, type HttpFixture } from '../../support/httpFixtures';
import { readZip } from './zipFixtures';

let server: HttpFixture;
let work: string;
let outputDir: string;
let scratchDir: string;
let sleeps: number[];

function options(extra: UploadOptions = {}): UploadOptions {
  return {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    scratchDir,
    ...extra,
  };
}

async function upload(spec: OutputUpload, extra: UploadOptions = {}) {
  return uploadOutput({ upload: spec, outputDir, signal: new AbortController().signal, options: options(extra) });
}

beforeEach(async () => {
  server = await startHttpFixture();
  work = await mkdtemp(path.join(os.tmpdir(), 'horde-uploads-'));
  outputDir = path.join(work, 'output');
  scratchDir = path.join(work, 'scratch');
  await mkdir(path.join(outputDir, 'sub'), { recursive: true });
  await mkdir(scratchDir);
  await writeFile(path.join(outputDir, 'result.txt'), 'the result');
  await writeFile(path.join(outputDir, 'sub', 'data.json'), '{"k":1}');
  sleeps = [];
});

afterEach(async () => {
  await server.close();
  // Output zips live only for the upload.
  expect(await readdir(scratchDir)).toEqual([]);
  await rm(work, { recursive: true, force: true });
});

describe('uploadOutput', () => {
  it('zips the output folder and POSTs it as multipart with the form fields first', async () => {
    server.on('POST', '/upload', statusSequence([201], 'stored', { etag: '"e1"' }));
    const result = await upload({ output_upload_type: 'zip_and_http_post', url: server.url('/upload'), form_fields: { key: 'jobs/1.zip', policy: 'p' } });

    const request = server.requests[0]!;
    expect(Number(request.headers['content-length'])).toBe(request.body.length);
    const parts = parseMultipart(request.body, request.headers['content-type']);
    expect(parts.map((p) => p.name)).toEqual(['key', 'policy', 'file']);
    expect(parts[0]!.data.toString()).toBe('jobs/1.zip');
    expect(parts[2]).toMatchObject({ filename: 'output.zip', contentType: 'application/zip' });
    expect(Object.fromEntries(await readZip(parts[2]!.data))).toEqual({
      'result.txt': 'the result',
      'sub/': '<dir>',
      'sub/data.json': '{"k":1}',
    });
    expect(result.responses['output.zip']).toMatchObject({ body: 'stored', headers: { etag: '"e1"', 'content-type': 'text/plain' } });
    expect(JSON.parse(result.uploadResults['output.zip']!)).toEqual(result.responses['output.zip']);
    expect(result.uploadResults['output.zip']).toMatch(/^\{"headers": \{.*\}, "body": "stored"\}$/);
  });

  it('PUTs the zip as the raw body with an exact Content-Length', async () => {
    server.on('PUT', '/put.zip', statusSequence([200]));
    await upload({ output_upload_type: 'zip_and_http_put', url: server.url('/put.zip') });
    const request = server.requests[0]!;
    expect(Number(request.headers['content-length'])).toBe(request.body.length);
    expect(request.headers['transfer-encoding']).toBeUndefined();
    expect((await readZip(request.body)).get('result.txt')).toBe('the result');
  });

  it('uploads single files with their signed headers, keyed by relative_path', async () => {
    server.on('POST', '/post', statusSequence([200], 'posted'));
    server.on('PUT', '/put', statusSequence([200], 'put'));
    const posted = await upload({
      output_upload_type: 'single_file_post',
      url: server.url('/post'),
      relative_path: 'sub/data.json',
      form_fields: { a: 'b' },
      signed_headers: { 'X-CH-Signature': 'sig' },
    });
    const put = await upload({ output_upload_type: 'single_file_put', url: server.url('/put'), relative_path: 'result.txt', signed_headers: { 'X-CH-Signature': 'sig2' } });
    expect(posted.responses['sub/data.json']!.body).toBe('posted');
    expect(put.responses['result.txt']!.body).toBe('put');
    const [postRequest, putRequest] = server.requests;
    expect(postRequest!.headers['x-ch-signature']).toBe('sig');
    expect(parseMultipart(postRequest!.body, postRequest!.headers['content-type']).find((p) => p.name === 'file')).toMatchObject({
      filename: 'data.json',
      contentType: 'application/json',
    });
    expect(putRequest!.headers['x-ch-signature']).toBe('sig2');
    expect(putRequest!.body.toString()).toBe('the result');
  });

  it('multi_upload sends the singles and zips the rest of the output to system_output', async () => {
    server.on('PUT', '/single', statusSequence([200], 'single ok'));
    server.on('POST', '/system', statusSequence([200], 'system ok'));
    const result = await upload({
      output_upload_type: 'multi_upload',
      uploads: [{ output_upload_type: 'single_file_put', url: server.url('/single'), relative_path: 'result.txt' }],
      system_output: { output_upload_type: 'zip_and_http_post', url: server.url('/system') },
    });
    expect(Object.keys(result.uploadResults)).toEqual(['result.txt', 'system_output']);
    const systemRequest = server.requests.find((r) => r.path === '/system')!;
    const zipPart = parseMultipart(systemRequest.body, systemRequest.headers['content-type']).find((p) => p.name === 'file')!;
    expect([...(await readZip(zipPart.data)).keys()]).toEqual(['sub/', 'sub/data.json']);
  });

  it('fails with upload_failed after 3 attempts answered 500, waiting 1 s then 2 s', async () => {
    server.on('POST', '/upload', statusSequence([500]));
    await expect(upload({ output_upload_type: 'zip_and_http_post', url: server.url('/upload') })).rejects.toMatchObject({
      code: 'executor.upload_failed',
      status: 500,
      attempts: 3,
    });
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('succeeds when a 500 is followed by a 200', async () => {
    server.on('POST', '/upload', statusSequence([500, 200], 'second time lucky'));
    const result = await upload({ output_upload_type: 'zip_and_http_post', url: server.url('/upload') });
    expect(result.responses['output.zip']!.body).toBe('second time lucky');
    expect(server.requests).toHaveLength(2);
    // Every attempt sends the complete archive again.
    const archives = server.requests.map((r) => parseMultipart(r.body, r.headers['content-type']).find((p) => p.name === 'file')!.data);
    expect(archives[0]!.length).toBeGreaterThan(0);
    expect(archives[0]!.equals(archives[1]!)).toBe(true);
  });

  it('does not retry a 403 (a refused presigned URL stays refused)', async () => {
    server.on('PUT', '/denied', statusSequence([403]));
    await expect(upload({ output_upload_type: 'single_file_put', url: server.url('/denied'), relative_path: 'result.txt' })).rejects.toMatchObject({
      code: 'executor.upload_failed',
      attempts: 1,
    });
  });

  it('retries when the target is unreachable, then fails', async () => {
    const url = await unreachableUrl('/upload');
    await expect(upload({ output_upload_type: 'zip_and_http_put', url })).rejects.toMatchObject({ code: 'executor.upload_failed', attempts: 3 });
  });

  it('fails when the response body exceeds the cap', async () => {
    server.on('PUT', '/chatty', (_req, res) => {
      res.end('x'.repeat(2048));
    });
    const error = await upload(
      { output_upload_type: 'single_file_put', url: server.url('/chatty'), relative_path: 'result.txt' },
      { maxResponseBytes: 1024 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'executor.upload_failed', attempts: 1 });
    expect((error as Error).message).toContain('exceeds 1024 bytes');
  });

  it('refuses an output with more entries than the limit, before sending anything', async () => {
    for (let i = 0; i < 5; i++) await writeFile(path.join(outputDir, `f${i}`), `${i}`);
    await expect(
      upload({ output_upload_type: 'zip_and_http_put', url: server.url('/never') }, { maxZipEntries: 4 }),
    ).rejects.toMatchObject({ code: 'executor.upload_rejected' });
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a missing single file and never follows a symlink the job planted', async () => {
    await symlink('/etc/hostname', path.join(outputDir, 'host-file'));
    await symlink('/etc', path.join(outputDir, 'host-dir'));
    server.on('PUT', '/x', statusSequence([200]));
    for (const relative of ['nope.txt', 'host-file', 'host-dir/hostname', '../outside']) {
      await expect(upload({ output_upload_type: 'single_file_put', url: server.url('/x'), relative_path: relative })).rejects.toMatchObject({
        code: 'executor.upload_rejected',
      });
    }
    const zipped = await upload({ output_upload_type: 'zip_and_http_put', url: server.url('/x') });
    expect(zipped.skipped).toEqual(['host-dir', 'host-file']);
    expect([...(await readZip(server.requests[0]!.body)).keys()]).not.toContain('host-file');
  });
});

describe('writeStdStreamsToOutput', () => {
  it('replaces a symlink the job planted as stdout.txt instead of writing through it', async () => {
    const victim = path.join(work, 'victim.txt');
    await writeFile(victim, 'untouched');
    await symlink(victim, path.join(outputDir, 'stdout.txt'));
    const logs = path.join(work, 'logs');
    await mkdir(logs);
    await writeFile(path.join(logs, 'out'), 'real stdout');
    await writeFile(path.join(logs, 'err'), 'real stderr');
    await writeStdStreamsToOutput({ stdoutPath: path.join(logs, 'out'), stderrPath: path.join(logs, 'err'), outputDir });
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    expect(await readFile(path.join(outputDir, 'stdout.txt'), 'utf8')).toBe('real stdout');
    expect(await readFile(path.join(outputDir, 'stderr.txt'), 'utf8')).toBe('real stderr');
  });
});
