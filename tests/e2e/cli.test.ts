import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'horde.js');
const IMAGE = process.env['HORDE_TEST_IMAGE'] ?? 'horde-testjob:local';

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function horde(args: readonly string[], cwd: string): Run {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString('utf8')));
  return run;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Processes whose command line mentions `text` (the cluster's children all carry its data dir in their flags). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

let cwd: string;
let up: Run | undefined;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'horde-cli-e2e-'));
});

afterAll(async () => {
  if (up !== undefined && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    await up.exited;
  }
  rmSync(cwd, { recursive: true, force: true });
});

it('horde up serves a cluster that horde job run uses, and Ctrl-C leaves nothing running', async () => {
  up = horde(['up'], cwd);
  await until(() => up!.stdout.includes('Ctrl-C stops everything.') || up!.child.exitCode !== null, 150_000, 'horde up ready');
  expect(up.stdout).toMatch(/facilitator\s+http:\/\/127\.0\.0\.1:\d+/);
  expect(up.stdout).toMatch(/validator\s+http:\/\/127\.0\.0\.1:\d+\s+hotkey 5/);
  expect(up.stdout).toMatch(/miner-0\s+http:\/\/127\.0\.0\.1:\d+/);
  const dataDir = join(cwd, '.horde');
  expect(processesMentioning(dataDir).length).toBe(3);

  const job = horde(['job', 'run', '--image', IMAGE, '--', 'sh', '-c', 'echo hello from horde job run'], cwd);
  const code = await job.exited;
  expect({ code, stderr: job.stderr }).toMatchObject({ code: 0 });
  expect(job.stdout).toBe('hello from horde job run\n');
  expect(job.stderr).not.toContain('starting a local cluster');
  for (const stage of ['sent to the facilitator', 'received by the validator', 'accepted by a miner', 'executor ready', 'execution done', 'completed']) {
    expect(job.stderr).toContain(stage);
  }

  const failing = horde(['job', 'run', '--image', IMAGE, '--', 'sh', '-c', 'echo oops >&2; exit 3'], cwd);
  expect(await failing.exited).toBe(1);
  expect(failing.stderr).toMatch(/did not complete: .*failed/);

  up.child.kill('SIGINT');
  expect(await up.exited).toBe(0);
  expect(up.stderr).toContain('nothing left running');
  expect(processesMentioning(dataDir)).toEqual([]);
}, 300_000);

it('horde job run with no cluster running starts one for the run and stops it afterwards', async () => {
  const job = horde(['job', 'run', '--image', IMAGE, '--', 'sh', '-c', 'echo standalone'], cwd);
  const code = await job.exited;
  expect({ code, stderr: job.stderr }).toMatchObject({ code: 0 });
  expect(job.stdout).toBe('standalone\n');
  expect(job.stderr).toContain('starting a local cluster');
  expect(job.stderr).toContain('stopping the local cluster');
  const dataDir = /\(data in (\S+)\)/.exec(job.stderr)?.[1];
  expect(dataDir).toBeDefined();
  expect(processesMentioning(dataDir!)).toEqual([]);
}, 180_000);
