/**
 * The validator's check of a job the facilitator forwarded (upstream `verify_request_or_fail`): the SDK user's
 * SignedFields signature must be present and verify, and its signatory must be this validator or whitelisted.
 * A refusal becomes `rejected` with `invalid_signature` (`rejected_by=validator`) in the dispatcher.
 */
import { verifyV2JobRequestSignature } from '../../crypto';
import type { V2JobRequest } from '../../protocol';

export type JobVerdict = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Pure apart from the signature maths. The whitelist is checked before the signature, as upstream does, so a
 * stranger's job costs no sr25519 verification.
 *
 * @example
 * ```ts
 * const verdict = verifyJobRequest(request, { validatorHotkey: me.ss58, whitelist: new Set([sdkUser]) });
 * if (!verdict.ok) reject('invalid_signature', verdict.message);
 * ```
 */
export function verifyJobRequest(
  request: V2JobRequest,
  options: { readonly validatorHotkey: string; readonly whitelist: ReadonlySet<string> },
): JobVerdict {
  const signature = request.signature;
  if (signature === undefined || signature === null) return { ok: false, message: 'Request signature not found' };
  const signatory = signature.signatory;
  if (signatory !== options.validatorHotkey && !options.whitelist.has(signatory)) {
    return { ok: false, message: `Signatory ${signatory} is not this validator and not in its whitelist` };
  }
  const verdict = verifyV2JobRequestSignature(request);
  if (!verdict.ok) return { ok: false, message: `Bad signature: ${verdict.error.message} (${verdict.error.code})` };
  return { ok: true };
}
