import { devHotkey, initCrypto } from '../../../src/crypto';
import type { V2JobRequest } from '../../../src/protocol';
import { verifyJobRequest } from '../../../src/actors/validator/verifyJob';
import { signedJobRequest } from '../../support/scriptedFacilitator';

describe('verifyJobRequest (SignedFields signature + whitelist)', () => {
  beforeAll(() => initCrypto());

  const validator = () => devHotkey('link-validator');
  const user = () => devHotkey('link-user');
  const stranger = () => devHotkey('link-stranger');

  type Row = [string, () => V2JobRequest, { whitelist: string[] }, boolean, RegExp | undefined];
  const rows: Row[] = [
    ['a whitelisted user signature verifies', () => signedJobRequest({ user: user() }), { whitelist: ['user'] }, true, undefined],
    ['the validator may sign its own jobs', () => signedJobRequest({ user: validator() }), { whitelist: [] }, true, undefined],
    [
      'a job with volumes and env verifies',
      () =>
        signedJobRequest({
          user: user(),
          env: { A: '1', B: 'two' },
          volume: { volume_type: 'multi_volume', volumes: [{ volume_type: 'inline', contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: 'in' }] },
          artifactsDir: '/artifacts',
        }),
      { whitelist: ['user'] },
      true,
      undefined,
    ],
    ['a signatory outside the whitelist is refused', () => signedJobRequest({ user: stranger() }), { whitelist: ['user'] }, false, /not in its whitelist/],
    ['a tampered docker_image is refused', () => ({ ...signedJobRequest({ user: user() }), docker_image: 'evil:latest' }), { whitelist: ['user'] }, false, /signature\.invalid/],
    ['tampered args are refused', () => ({ ...signedJobRequest({ user: user() }), args: ['rm', '-rf', '/'] }), { whitelist: ['user'] }, false, /signature\.invalid/],
    [
      'a tampered time limit is refused',
      () => ({ ...signedJobRequest({ user: user() }), execution_time_limit: 99_999 }),
      { whitelist: ['user'] },
      false,
      /signature\.invalid/,
    ],
    [
      'a signature by someone else under a whitelisted signatory name is refused',
      () => {
        const forged = signedJobRequest({ user: stranger() });
        return { ...forged, signature: { ...forged.signature!, signatory: user().ss58 } };
      },
      { whitelist: ['user'] },
      false,
      /signature\.invalid/,
    ],
    [
      'bad base64 is refused as malformed',
      () => {
        const request = signedJobRequest({ user: user() });
        return { ...request, signature: { ...request.signature!, signature: 'not base64!' } };
      },
      { whitelist: ['user'] },
      false,
      /signature\.malformed/,
    ],
    [
      'a shifted timestamp is refused',
      () => {
        const request = signedJobRequest({ user: user() });
        return { ...request, signature: { ...request.signature!, timestamp_ns: request.signature!.timestamp_ns + 1n } };
      },
      { whitelist: ['user'] },
      false,
      /signature\.invalid/,
    ],
    ['a missing signature is refused', () => ({ ...signedJobRequest({ user: user() }), signature: null }), { whitelist: ['user'] }, false, /not found/],
    [
      'a signatory that is not an SS58 address is refused',
      () => {
        const request = signedJobRequest({ user: user() });
        return { ...request, signature: { ...request.signature!, signatory: 'nobody' } };
      },
      { whitelist: ['user', 'nobody'] },
      false,
      /bad_signatory/,
    ],
  ];

  it.each(rows)('%s', (_name, build, { whitelist }, ok, message) => {
    const names: Record<string, string> = { user: user().ss58, nobody: 'nobody' };
    const verdict = verifyJobRequest(build(), {
      validatorHotkey: validator().ss58,
      whitelist: new Set(whitelist.map((w) => names[w] ?? w)),
    });
    expect(verdict.ok).toBe(ok);
    if (!verdict.ok) expect(verdict.message).toMatch(message!);
  });
});
