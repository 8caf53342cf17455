/**
 * Duplicate and out-of-order miner messages, with the real `horde executor` process: each is answered with
 * GenericError, as upstream's MinerClient does, and the job carries on to its one V0JobFinishedRequest.
 */
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { initialJobRequest, jobRequest } from '../../support/scriptedMiner';
import { executorCase, exitCodeOf, type ExecutorCase } from './harness';

const docker = localDocker();
let current: ExecutorCase | undefined;

beforeAll(async () => {
  await ensureTestImage(docker);
});

afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('horde executor: duplicate and out-of-order messages', () => {
  it('answers each with GenericError and still completes the job exactly once', async () => {
    let jobUuid = '';
    current = await executorCase(docker, {
      name: 'protocol',
      onConnect: ({ send, index }) => {
        if (index !== 0) return;
        // out of order: the job before the initial request
        send(jobRequest({ jobUuid, image: TEST_IMAGE, cmd: ['true'] }));
        send(initialJobRequest({ jobUuid, image: TEST_IMAGE }));
      },
    });
    jobUuid = current.jobUuid;
    const { miner } = current;
    const run = current.run();
    await miner.waitFor('V0ExecutorReadyRequest');
    miner.send(initialJobRequest({ jobUuid, image: TEST_IMAGE }));
    miner.sendRaw('{"message_type":"V0JobRequest", this is not json');
    miner.send(jobRequest({ jobUuid, image: TEST_IMAGE, cmd: ['sh', '-c', 'sleep 1; echo ran'] }));
    await miner.waitFor('V0VolumesReadyRequest');
    miner.send(jobRequest({ jobUuid, image: TEST_IMAGE, cmd: ['echo', 'second'] }));
    const finished = await miner.waitFor('V0JobFinishedRequest', 20_000);
    expect(await exitCodeOf(run)).toBe(0);

    expect(finished.docker_process_stdout).toBe('ran\n');
    const errors = miner.ofType('GenericError').map((m) => m.details ?? '');
    expect(errors).toHaveLength(4);
    expect(errors[0]).toBe(`Received job request before an initial job request job_uuid=${jobUuid}`);
    expect(errors).toContain(`Received duplicate initial job request: first job_uuid=${jobUuid} and then job_uuid=${jobUuid}`);
    expect(errors.some((e) => e.startsWith('Malformed message from miner: '))).toBe(true);
    expect(errors).toContain(`Received duplicate full job payload request: first job_uuid=${jobUuid} and then job_uuid=${jobUuid}`);
    const stages = miner.messages.map((m) => m.message_type).filter((t) => t !== 'GenericError');
    expect(stages).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0ExecutionDoneRequest', 'V0MachineSpecsRequest', 'V0JobFinishedRequest']);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });
});
