/**
 * p50 wall time of one job container: `runJobContainer` (create + attach + start + wait + drain + remove) for
 * `echo hi`, against the CLI's `docker run --rm horde-testjob:local echo hi` (which also pays the CLI process start).
 * Run: `npx tsx bench/docker.ts [runs]`. Last line: `ratio: <runJobContainer p50 / CLI p50>`.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createDockerRuntime, createJobTempDir, removeTempDirRootSafe } from '../src/actors/executor';

const IMAGE = process.env.HORDE_TEST_IMAGE ?? 'horde-testjob:local';
const runs = Number(process.argv[2] ?? 10);
const hordeId = `bench-${process.pid}`;

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function main(): Promise<void> {
  const runtime = createDockerRuntime();
  const signal = new AbortController().signal;
  const dirs = await createJobTempDir({ prefix: 'horde-bench-' });
  const viaRuntime: number[] = [];
  const viaCli: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const started = performance.now();
      const result = await runtime.runJobContainer({
        image: IMAGE,
        cmd: ['echo', 'hi'],
        volumeDir: dirs.volumeDir,
        outputDir: dirs.outputDir,
        labels: { hordeId, jobUuid: `bench-${i}`, token: 'bench' },
        deadlineMs: 30_000,
        stdoutPath: dirs.stdoutPath,
        stderrPath: dirs.stderrPath,
        signal,
      });
      if (result.stdout !== 'hi\n') throw new Error(`unexpected output ${JSON.stringify(result.stdout)}`);
      if (i > 0) viaRuntime.push(performance.now() - started); // run 0 warms caches

      const cliStarted = performance.now();
      const out = execFileSync('docker', ['run', '--rm', '--label', 'horde.managed=true', '--label', `horde.id=${hordeId}`, IMAGE, 'echo', 'hi'], {
        encoding: 'utf8',
      });
      if (out !== 'hi\n') throw new Error(`unexpected CLI output ${JSON.stringify(out)}`);
      if (i > 0) viaCli.push(performance.now() - cliStarted);
    }
  } finally {
    await runtime.removeStaleJobContainers({ hordeId, signal });
    await removeTempDirRootSafe({ dir: dirs.root, signal });
  }
  const runtimeP50 = p50(viaRuntime);
  const cliP50 = p50(viaCli);
  console.log(`runs: ${runs} each (after 1 warm-up)`);
  console.log(`runJobContainer echo hi p50: ${runtimeP50.toFixed(1)} ms (min ${Math.min(...viaRuntime).toFixed(1)}, max ${Math.max(...viaRuntime).toFixed(1)})`);
  console.log(`docker run --rm CLI    p50: ${cliP50.toFixed(1)} ms (min ${Math.min(...viaCli).toFixed(1)}, max ${Math.max(...viaCli).toFixed(1)})`);
  console.log(`ratio: ${(runtimeP50 / cliP50).toFixed(2)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
