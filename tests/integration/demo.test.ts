import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { localDocker } from '../support/docker';

const bin = join(__dirname, '..', '..', 'bin', 'horde.js');

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('horde demo (the README\'s first command)', () => {
  it('runs a real job through a miner process and its executor and prints the job output', async () => {
    const r = await runDemo(['--', 'sh', '-c', 'echo demo-output-$((6*7))']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/accepted: an executor is reserved\n.*executor ready\n.*volumes ready\n.*execution done\n.*finished\n/);
    expect(r.stdout).toContain('--- job stdout ---\ndemo-output-42\n');
    const jobUuid = /job ([0-9a-f-]{36}): finished/.exec(r.stdout)?.[1];
    expect(jobUuid).toBeDefined();
    const left = await localDocker().listContainers({ all: true, filters: { label: [`horde.job_uuid=${jobUuid}`] } });
    expect(left).toEqual([]);
  }, 120_000);

  it('exits 1 and says why when the job fails', async () => {
    const r = await runDemo(['--', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"reason":"nonzero_return_code"');
  }, 120_000);
});
