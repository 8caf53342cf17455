/**
 * Run by tempDirs.test.ts in a child process as an unprivileged user (uid nobody, gid docker): a job container
 * (root) leaves root-owned read-only files in a temp dir this user owns; a plain delete must fail and the
 * root-safe removal must succeed. Prints one JSON line with what happened.
 */
import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import { createDockerRuntime, createJobTempDir, removeTempDirRootSafe } from '../../../src/actors/executor';

async function main(): Promise<void> {
  const [parentDir, image, hordeId] = process.argv.slice(2) as [string, string, string];
  const signal = new AbortController().signal;
  const runtime = createDockerRuntime();
  const dirs = await createJobTempDir({ parentDir, prefix: 'job-' });
  const run = await runtime.runJobContainer({
    image,
    cmd: ['sh', '-c', 'mkdir -p /output/locked/deeper && echo secret > /output/locked/deeper/ro.txt && chmod 444 /output/locked/deeper/ro.txt && chmod 555 /output/locked/deeper /output/locked'],
    volumeDir: dirs.volumeDir,
    outputDir: dirs.outputDir,
    labels: { hordeId, jobUuid: 'cleanup-job', token: 'cleanup-token' },
    deadlineMs: 30_000,
    stdoutPath: dirs.stdoutPath,
    stderrPath: dirs.stderrPath,
    signal,
  });
  let plainRmError: string | undefined;
  try {
    await rm(path.join(dirs.outputDir, 'locked'), { recursive: true, force: true });
  } catch (error) {
    plainRmError = (error as NodeJS.ErrnoException).code;
  }
  const { method } = await removeTempDirRootSafe({ dir: dirs.root, docker: runtime.docker, cleanupImage: image, hordeId, signal });
  const exists = await access(dirs.root).then(
    () => true,
    () => false,
  );
  process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), exitCode: run.exitCode, plainRmError, method, exists })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
