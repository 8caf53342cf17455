import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { collectArtifacts } from '../../../src/actors/executor';

let hostDir: string;
const signal = new AbortController().signal;

beforeEach(async () => {
  hostDir = await mkdtemp(path.join(os.tmpdir(), 'horde-artifacts-'));
});

afterEach(async () => {
  await rm(hostDir, { recursive: true, force: true });
});

describe('collectArtifacts', () => {
  it('sends files strictly under 1,000,000 bytes as base64 keyed by the container path', async () => {
    await writeFile(path.join(hostDir, 'small.txt'), 'tiny');
    await writeFile(path.join(hostDir, 'edge.bin'), Buffer.alloc(999_999, 7));
    const { artifacts, skipped } = await collectArtifacts({ hostDir, artifactsDir: '/artifacts', signal });
    expect(Object.keys(artifacts).sort()).toEqual(['/artifacts/edge.bin', '/artifacts/small.txt']);
    expect(Buffer.from(artifacts['/artifacts/small.txt']!, 'base64').toString()).toBe('tiny');
    expect(Buffer.from(artifacts['/artifacts/edge.bin']!, 'base64')).toHaveLength(999_999);
    expect(skipped).toEqual([]);
  });

  it('skips and reports files of 1,000,000 bytes or more, folders, and symlinks', async () => {
    await writeFile(path.join(hostDir, 'exact.bin'), Buffer.alloc(1_000_000));
    await mkdir(path.join(hostDir, 'folder'));
    await writeFile(path.join(hostDir, 'folder', 'inside.txt'), 'not top-level');
    await symlink('/etc/hostname', path.join(hostDir, 'host-link'));
    const { artifacts, skipped } = await collectArtifacts({ hostDir, artifactsDir: '/artifacts', signal });
    expect(artifacts).toEqual({});
    expect(skipped).toEqual([
      { name: 'exact.bin', reason: 'too_large', sizeBytes: 1_000_000 },
      { name: 'folder', reason: 'directory' },
      { name: 'host-link', reason: 'not_regular_file' },
    ]);
  });

  it('joins keys exactly as upstream does, without normalising the job\'s artifacts_dir', async () => {
    await writeFile(path.join(hostDir, 'a.txt'), 'a');
    const { artifacts } = await collectArtifacts({ hostDir, artifactsDir: '/out/arts/', signal });
    expect(Object.keys(artifacts)).toEqual(['/out/arts//a.txt']);
  });
});
