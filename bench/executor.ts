/**
 * The executor's overhead over plain docker, end to end: the wall time from the miner sending `V0JobRequest` to it
 * receiving `V0JobFinishedRequest` for a trivial container (`true`), measured at a scripted miner (real ws on
 * 127.0.0.1) talking to the REAL `horde executor` process, against `docker run --rm --network none` of the same image
 * and command in the same run (the CLI pays its own process start; the executor pays the stage messages, the temp
 * dir, the log capture, the stdout/stderr copies into /output, machine specs and the container removal).
 * Also: executor process start (spawn of `node bin/horde.js executor`, tsx on the sources) to `V0ExecutorReadyRequest`.
 *
 * Run: `npx tsx bench/executor.ts [runs]` (default 7, after one warm-up of each). Last line: `ratio: X`
 * (executor p50 / docker run p50; target <= 1.15).
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { executorTokenFor, initialJobRequest, jobRequest, ScriptedMiner } from '../tests/support/scriptedMiner';

const IMAGE = process.env.HORDE_TEST_IMAGE ?? 'horde-testjob:local';
const runs = Number(process.argv[2] ?? 7);
const repoRoot = path.join(__dirname, '..');
const hordeId = `bench-executor-${process.pid}`;
const execFileAsync = promisify(execFile);

function p50(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function describe(samples: readonly number[]): string {
  return `p50 ${p50(samples).toFixed(1)} ms (min ${Math.min(...samples).toFixed(1)}, max ${Math.max(...samples).toFixed(1)})`;
}

/** One executor run: process start → ready, and V0JobRequest → V0JobFinishedRequest. */
async function executorRun(workDir: string): Promise<{ startToReadyMs: number; jobMs: number }> {
  const jobUuid = randomUUID();
  const token = executorTokenFor(jobUuid);
  const miner = await ScriptedMiner.start({
    onConnect: ({ send, index }) => {
      if (index === 0) send(initialJobRequest({ jobUuid, image: IMAGE, timing: { leeway: 5, download: 30, execution: 60, upload: 30 } }));
    },
  });
  try {
    const spawnedAt = performance.now();
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin', 'horde.js'), 'executor', '--miner-address', miner.address, '--horde-id', hordeId, '--work-dir', workDir, '--log-level', 'warn'],
      { cwd: repoRoot, env: { ...process.env, EXECUTOR_TOKEN: token }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await miner.waitFor('V0ExecutorReadyRequest', 30_000);
    const readyAt = performance.now();
    miner.send(jobRequest({ jobUuid, image: IMAGE, cmd: ['true'] }));
    await miner.waitFor('V0JobFinishedRequest', 30_000);
    const finishedAt = performance.now();
    const code = await exited;
    if (code !== 0) throw new Error(`horde executor exited with ${code}`);
    return { startToReadyMs: readyAt - spawnedAt, jobMs: finishedAt - readyAt };
  } finally {
    await miner.close();
  }
}

async function dockerRun(): Promise<number> {
  const started = performance.now();
  await execFileAsync('docker', ['run', '--rm', '--network', 'none', '--label', 'horde.managed=true', '--label', `horde.id=${hordeId}`, IMAGE, 'true']);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'horde-bench-executor-'));
  const startToReady: number[] = [];
  const executorJob: number[] = [];
  const viaDocker: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      // alternate which goes first, so that neither always runs on a cache the other warmed
      const dockerFirst = i % 2 === 1;
      if (dockerFirst) viaDocker.push(await dockerRun());
      const run = await executorRun(workDir);
      if (!dockerFirst) viaDocker.push(await dockerRun());
      startToReady.push(run.startToReadyMs);
      executorJob.push(run.jobMs);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  // run 0 is the warm-up of both
  startToReady.shift();
  executorJob.shift();
  viaDocker.shift();
  console.log(`runs: ${runs} each (after 1 warm-up), image ${IMAGE}, command: true`);
  console.log(`executor process start -> V0ExecutorReadyRequest: ${describe(startToReady)}`);
  console.log(`V0JobRequest -> V0JobFinishedRequest:         ${describe(executorJob)}`);
  console.log(`docker run --rm --network none:                ${describe(viaDocker)}`);
  console.log(`ratio: ${(p50(executorJob) / p50(viaDocker)).toFixed(2)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
