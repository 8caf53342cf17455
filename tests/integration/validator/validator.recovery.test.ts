/**
 * `horde validator` across failures of its own side: the facilitator restarting mid-job, and the validator process
 * killed (SIGKILL) mid-job and started again on the same data dir. Real processes, real Docker.
 */
import { signedJobRequest } from '../../support/scriptedFacilitator';
import { eventually } from '../miner/minerProcess';
import { SUCCESS_SEQUENCE, startValidatorCluster, type ValidatorCluster } from './validatorHarness';

jest.setTimeout(120_000);

/** `horde_validator_outbox_pending_rows` from the validator's /metrics. */
async function pendingRows(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const match = /^horde_validator_outbox_pending_rows(?:\{[^}]*\})? (\d+)/m.exec(text);
  return match === null ? 0 : Number(match[1]);
}

describe('horde validator recovering from failures', () => {
  let cluster: ValidatorCluster;

  beforeAll(async () => {
    cluster = await startValidatorCluster('recovery');
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('delivers every status of a job exactly once when the facilitator restarts mid-job', async () => {
    const request = signedJobRequest({ user: cluster.user, args: ['sh', '-c', 'sleep 3; echo survived'] });
    cluster.facilitator.pushJob(request);
    await cluster.facilitator.waitFor(() => cluster.facilitator.statuses(request.uuid).includes('accepted'), 'the job to be accepted', 30_000);
    const connectionsBefore = cluster.facilitator.totalConnections;
    await cluster.facilitator.restart();
    expect(await cluster.terminal(request.uuid)).toEqual(SUCCESS_SEQUENCE);
    // The validator really did reconnect, and nothing reached the facilitator's store twice.
    expect(cluster.facilitator.totalConnections).toBeGreaterThan(connectionsBefore);
    expect(cluster.update(request.uuid, 'completed')?.metadata?.miner_response?.docker_process_stdout).toContain('survived');
  });

  it('replays its outbox after being SIGKILLed mid-job, and the job ends horde_failed', async () => {
    const request = signedJobRequest({ user: cluster.user, args: ['sh', '-c', 'sleep 4'], timeLimitsS: { execution: 30 } });
    cluster.facilitator.pushJob(request);
    await cluster.facilitator.waitFor(() => cluster.facilitator.statuses(request.uuid).includes('accepted'), 'the job to be accepted', 30_000);
    // With the facilitator away, the next statuses can only wait in the validator's SQLite outbox.
    await cluster.facilitator.stop();
    await eventually(async () => (await pendingRows(cluster.validator.httpUrl)) >= 1, 30_000, 'a status waiting in the outbox');
    const stored = cluster.facilitator.statuses(request.uuid);
    expect(await cluster.validator.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    await cluster.facilitator.start();
    await cluster.restartValidator();
    const statuses = await cluster.terminal(request.uuid);
    // What the killed process had written but not sent arrived after the restart, in order, then the recovery's end.
    expect(statuses.slice(0, stored.length)).toEqual(stored);
    expect(statuses.length).toBeGreaterThan(stored.length + 1);
    expect(statuses.slice(0, -1)).toEqual(SUCCESS_SEQUENCE.slice(0, statuses.length - 1));
    expect(statuses.at(-1)).toBe('horde_failed');
    expect(cluster.update(request.uuid, 'horde_failed')?.metadata?.horde_failure_details).toMatchObject({
      reported_by: 'validator',
      reason: 'unhandled_exception',
      message: 'validator restarted mid-job',
    });
  });
});
