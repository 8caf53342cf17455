/**
 * `horde validator` end to end: a real validator process between a scripted facilitator and a real `horde miner`
 * process whose executors run the jobs in Docker. Each test pushes a job as the facilitator would and checks the
 * statuses the facilitator stores.
 */
import { devHotkey } from '../../../src/crypto';
import { signedJobRequest } from '../../support/scriptedFacilitator';
import { SUCCESS_SEQUENCE, startValidatorCluster, type ValidatorCluster } from './validatorHarness';

jest.setTimeout(90_000);

describe('horde validator between a facilitator and a real miner', () => {
  let cluster: ValidatorCluster;

  beforeAll(async () => {
    cluster = await startValidatorCluster('flow');
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('reports the full status sequence of a successful job, with its stdout', async () => {
    const request = signedJobRequest({ user: cluster.user, args: ['sh', '-c', 'echo hello from the horde'] });
    expect(cluster.facilitator.pushJob(request)).toBe(1);
    expect(await cluster.terminal(request.uuid)).toEqual(SUCCESS_SEQUENCE);
    const completed = cluster.update(request.uuid, 'completed');
    expect(completed?.metadata?.miner_response?.docker_process_stdout).toContain('hello from the horde');
  });

  it('rejects a job whose signature does not match its fields as invalid_signature', async () => {
    const request = { ...signedJobRequest({ user: cluster.user }), docker_image: 'evil:latest' };
    cluster.facilitator.pushJob(request);
    expect(await cluster.terminal(request.uuid)).toEqual(['rejected']);
    expect(cluster.update(request.uuid, 'rejected')?.metadata?.job_rejection_details).toMatchObject({
      rejected_by: 'validator',
      reason: 'invalid_signature',
    });
  });

  it('rejects a job signed by someone neither itself nor whitelisted as invalid_signature', async () => {
    const request = signedJobRequest({ user: devHotkey('it-validator-stranger') });
    cluster.facilitator.pushJob(request);
    expect(await cluster.terminal(request.uuid)).toEqual(['rejected']);
    expect(cluster.update(request.uuid, 'rejected')?.metadata?.job_rejection_details?.reason).toBe('invalid_signature');
  });

  it('rejects a job of a class no miner offers as no_miner_for_job, after received', async () => {
    const request = signedJobRequest({ user: cluster.user, executorClass: 'always_on.gpu-24gb' });
    cluster.facilitator.pushJob(request);
    expect(await cluster.terminal(request.uuid)).toEqual(['received', 'rejected']);
    expect(cluster.update(request.uuid, 'rejected')?.metadata?.job_rejection_details).toMatchObject({
      rejected_by: 'validator',
      reason: 'no_miner_for_job',
    });
  });

  it('reports failed with the exit status when the job exits nonzero in its container', async () => {
    const request = signedJobRequest({ user: cluster.user, args: ['sh', '-c', 'echo about to fail; exit 3'] });
    cluster.facilitator.pushJob(request);
    const statuses = await cluster.terminal(request.uuid);
    expect(statuses[0]).toBe('received');
    expect(statuses.at(-1)).toBe('failed');
    expect(cluster.update(request.uuid, 'failed')?.metadata?.job_failure_details).toMatchObject({
      reason: 'nonzero_return_code',
      docker_process_exit_status: 3,
    });
  });

  it('ignores a job delivered twice: each status is reported once', async () => {
    const request = signedJobRequest({ user: cluster.user, args: ['sh', '-c', 'echo twice'] });
    const integrityErrorsBefore = cluster.facilitator.integrityErrors;
    cluster.facilitator.pushJob(request);
    cluster.facilitator.pushJob(request);
    expect(await cluster.terminal(request.uuid)).toEqual(SUCCESS_SEQUENCE);
    expect(cluster.updates(request.uuid).map((u) => u.status)).toEqual(SUCCESS_SEQUENCE);
    expect(cluster.facilitator.integrityErrors).toBe(integrityErrorsBefore);
  });

  it('on SIGTERM ends its running job horde_failed ("validator shutting down") and exits 0', async () => {
    const request = signedJobRequest({ user: cluster.user, args: ['sh', '-c', 'sleep 30'], timeLimitsS: { execution: 60 } });
    cluster.facilitator.pushJob(request);
    await cluster.facilitator.waitFor(
      () => cluster.facilitator.statuses(request.uuid).includes('volumes_ready'),
      'the long job to start running',
      30_000,
    );
    const exit = await cluster.validator.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const statuses = cluster.facilitator.statuses(request.uuid);
    expect(statuses.at(-1)).toBe('horde_failed');
    expect(cluster.update(request.uuid, 'horde_failed')?.metadata?.horde_failure_details).toMatchObject({
      reported_by: 'validator',
      reason: 'unhandled_exception',
      message: 'validator shutting down',
    });
  });
});
