import { classifyAuthResponse, classifyStatusResponse } from '../../../src/machines/facilitatorLink.machine';
import type { Response } from '../../../src/protocol';

const error = (...types: string[]): Response => ({ status: 'error', errors: types.map((type) => ({ msg: type, type, help: '' })) });
const success: Response = { status: 'success', errors: [] };

describe('facilitator Response classification', () => {
  it.each([
    ['success', success, { kind: 'authenticated' }],
    ['auth.already_authenticated (we are)', error('auth.already_authenticated'), { kind: 'authenticated' }],
    ['auth.not_authenticated (a frame that overtook our auth)', error('auth.not_authenticated'), { kind: 'stale' }],
    ['auth.signature_invalid', error('auth.signature_invalid'), { kind: 'refused', reason: 'auth.signature_invalid' }],
    ['auth.validator_not_found', error('auth.validator_not_found'), { kind: 'refused', reason: 'auth.validator_not_found' }],
    ['a validation error', error('missing'), { kind: 'refused', reason: 'missing' }],
    ['an error without details', error(), { kind: 'refused', reason: 'unknown' }],
  ])('answer to V0AuthenticationRequest: %s', (_name, response, verdict) => {
    expect(classifyAuthResponse(response)).toEqual(verdict);
  });

  it.each([
    ['success: stored', success, { kind: 'ack', outcome: 'stored' }],
    ['job.integrity_error: already stored', error('job.integrity_error'), { kind: 'ack', outcome: 'duplicate' }],
    ['job.not_found: acknowledged, counted', error('job.not_found'), { kind: 'ack', outcome: 'job_not_found' }],
    ['a validation error: acknowledged as refused', error('string_type'), { kind: 'ack', outcome: 'refused' }],
    ['auth.not_authenticated: re-authenticate, keep the row', error('auth.not_authenticated'), { kind: 'reauthenticate', reason: 'auth.not_authenticated' }],
    ['an auth error wins over others', error('job.not_found', 'auth.validator_not_found'), { kind: 'reauthenticate', reason: 'auth.validator_not_found' }],
  ])('answer to V0JobStatusUpdate: %s', (_name, response, verdict) => {
    expect(classifyStatusResponse(response)).toEqual(verdict);
  });
});
