/**
 * One validator cluster for integration tests: a scripted facilitator, a real `horde miner` process (process
 * executors running jobs in Docker) and a real `horde validator` process between them. Everything started is
 * stopped by `close()`, which also waits until no executor process or job container of the miner is left.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import type { JobStatus, V0JobStatusUpdate } from '../../../src/protocol';
import { ensureTestImage } from '../../support/docker';
import { ScriptedFacilitator } from '../../support/scriptedFacilitator';
import { metagraphFile, nothingLeft, removeDir, startMinerProcess, type MinerProcess } from '../miner/minerProcess';
import { startValidatorProcess, whenReady, writeValidatorMetagraph, type ValidatorProcess } from './validatorProcess';

export const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(['completed', 'rejected', 'failed', 'horde_failed']);

/** The statuses of a successful job without streaming, as the facilitator must store them. */
export const SUCCESS_SEQUENCE: readonly JobStatus[] = [
  'received',
  'accepted',
  'executor_ready',
  'volumes_ready',
  'execution_done',
  'completed',
];

export interface ValidatorCluster {
  readonly docker: Dockerode;
  readonly facilitator: ScriptedFacilitator;
  readonly miner: MinerProcess;
  validator: ValidatorProcess;
  readonly validatorKey: Hotkey;
  /** The SDK user whose jobs the validator accepts (whitelisted). */
  readonly user: Hotkey;
  readonly dir: string;
  /** Starts `horde validator` again on the same data dir (after it was stopped or killed). */
  restartValidator(): Promise<ValidatorProcess>;
  /** Every `V0JobStatusUpdate` frame the facilitator received for `uuid`, decoded as JSON, in arrival order. */
  updates(uuid: string): V0JobStatusUpdate[];
  /** Waits until the facilitator stored a terminal status for `uuid`; returns the stored statuses. */
  terminal(uuid: string, timeoutMs?: number): Promise<JobStatus[]>;
  /** The stored update of `status` for `uuid` (the first frame carrying it). */
  update(uuid: string, status: JobStatus): V0JobStatusUpdate | undefined;
  close(): Promise<void>;
}

/** Starts the facilitator, the miner and the validator; resolves once the validator is ready. */
export async function startValidatorCluster(name: string): Promise<ValidatorCluster> {
  await initCrypto();
  const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
  await ensureTestImage(docker);
  const validatorDevKey = `it-validator-${name}`;
  const validatorKey = devHotkey(validatorDevKey);
  const user = devHotkey('it-validator-user');
  const minerKey = devHotkey(`it-validator-miner-${name}`);
  const minerFiles = metagraphFile([{ hotkey: validatorKey.ss58 }]);
  const dir = mkdtempSync(join(tmpdir(), `horde-validator-it-${name}-`));
  const hordeId = `it-validator-${name}-${process.pid}`;
  const started: { facilitator?: ScriptedFacilitator; miner?: MinerProcess; validator?: ValidatorProcess } = {};
  const cleanup = async (): Promise<void> => {
    await started.validator?.stop('SIGKILL');
    await started.miner?.stop('SIGTERM');
    await started.facilitator?.close();
    await nothingLeft(docker, hordeId, 30_000);
    removeDir(minerFiles.dir);
    removeDir(dir);
  };
  try {
    started.facilitator = await ScriptedFacilitator.start({ validators: new Set([validatorKey.ss58]) });
    started.miner = await startMinerProcess({
      devKey: `it-validator-miner-${name}`,
      metagraphPath: minerFiles.path,
      dataDir: join(dir, 'miner'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 2}', '--drain-grace-ms', '1000'],
    });
    const metagraphPath = join(dir, 'validator-metagraph.json');
    writeValidatorMetagraph(metagraphPath, [{ hotkey: validatorKey.ss58 }], [{ hotkey: minerKey.ss58, port: Number(new URL(started.miner.httpUrl).port) }]);
    const facilitator = started.facilitator;
    const startValidator = async (): Promise<ValidatorProcess> => {
      const validator = await startValidatorProcess({
        devKey: validatorDevKey,
        facilitatorUrl: facilitator.url,
        metagraphPath,
        dataDir: join(dir, 'validator'),
        args: ['--whitelist', user.ss58, '--manifest-interval-ms', '2000', '--shutdown-grace-ms', '5000'],
      });
      started.validator = validator;
      await whenReady(validator);
      return validator;
    };
    const cluster: ValidatorCluster = {
      docker,
      facilitator,
      miner: started.miner,
      validator: await startValidator(),
      validatorKey,
      user,
      dir,
      async restartValidator() {
        cluster.validator = await startValidator();
        return cluster.validator;
      },
      updates: (uuid) =>
        facilitator
          .received('V0JobStatusUpdate')
          .map((frame) => JSON.parse(frame.text) as V0JobStatusUpdate)
          .filter((update) => update.uuid === uuid),
      async terminal(uuid, timeoutMs = 40_000) {
        await facilitator.waitFor(
          () => facilitator.statuses(uuid).some((status) => TERMINAL.has(status)),
          `a terminal status for job ${uuid} (stored so far: ${facilitator.statuses(uuid).join(', ')})`,
          timeoutMs,
        );
        return facilitator.statuses(uuid);
      },
      update: (uuid, status) => cluster.updates(uuid).find((update) => update.status === status),
      close: cleanup,
    };
    return cluster;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
