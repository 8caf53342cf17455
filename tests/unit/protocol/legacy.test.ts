import { isLegacyFailure, legacyToHordeFailed, minerToValidatorCodec } from '../../../src/protocol';

describe('legacy failure messages', () => {
  it.each([
    ['V0ExecutorFailedRequest', 'generic_error'],
    ['V0StreamingJobNotReadyRequest', 'streaming_failed'],
  ] as const)('%s decodes as itself and maps to a horde failure with reason %s', (messageType, reason) => {
    const r = minerToValidatorCodec.decode(`{"message_type":"${messageType}","job_uuid":"j1","executor_token":null}`);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.message_type).toBe(messageType);
    expect(isLegacyFailure(r.value)).toBe(true);
    if (!isLegacyFailure(r.value)) return;
    expect(legacyToHordeFailed(r.value)).toEqual({
      message_type: 'V0HordeFailedRequest',
      job_uuid: 'j1',
      reported_by: 'miner',
      message: `Executor reported legacy ${messageType} message`,
      reason,
      context: null,
    });
  });

  it('lets the caller say who reported it', () => {
    expect(legacyToHordeFailed({ message_type: 'V0ExecutorFailedRequest', job_uuid: 'j', executor_token: 't' }, 'executor').reported_by).toBe(
      'executor',
    );
  });

  it('does not treat current failures as legacy', () => {
    expect(isLegacyFailure({ message_type: 'V0HordeFailedRequest' })).toBe(false);
  });
});
