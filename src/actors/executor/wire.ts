import {
  WIRE_OUTPUT_ELLIPSIS,
  WIRE_OUTPUT_HEAD_CHARS,
  WIRE_OUTPUT_MAX_CHARS,
  WIRE_OUTPUT_TAIL_CHARS,
} from './defaults';
import type { HttpOutputVolumeResponse } from './types';
import { pythonJsonDumps } from '../../protocol/json';

/**
 * Pure helpers that reproduce upstream's wire formatting byte for byte: stdout/stderr truncation (Python counts
 * characters as code points, not UTF-16 units) and `upload_results` (Python `json.dumps` with its default
 * separators and `ensure_ascii`).
 */

export interface TruncationLimits {
  readonly maxChars: number;
  readonly headChars: number;
  readonly tailChars: number;
}

export const UPSTREAM_TRUNCATION: TruncationLimits = {
  maxChars: WIRE_OUTPUT_MAX_CHARS,
  headChars: WIRE_OUTPUT_HEAD_CHARS,
  tailChars: WIRE_OUTPUT_TAIL_CHARS,
};

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Number of code points (Python's `len`) in a JS string. */
export function codePointLength(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    count++;
  }
  return count;
}

/** The first `n` code points of `text` (Python `text[:n]`). */
export function headCodePoints(text: string, n: number): string {
  let i = 0;
  for (let taken = 0; taken < n && i < text.length; taken++) {
    i += isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
  }
  return text.slice(0, i);
}

/** The last `n` code points of `text` (Python `text[-n:]`, and `''` for n = 0). */
export function tailCodePoints(text: string, n: number): string {
  let i = text.length;
  for (let taken = 0; taken < n && i > 0; taken++) {
    i -= isLowSurrogate(text.charCodeAt(i - 1)) && i - 2 >= 0 && isHighSurrogate(text.charCodeAt(i - 2)) ? 2 : 1;
  }
  return text.slice(i);
}

/**
 * Upstream's `truncate()`: text longer than 1,000,000 characters becomes its first 500,000, `" ... "` and its last
 * 500,000 characters.
 *
 * @example
 * ```ts
 * truncateLikeUpstream('a'.repeat(1_000_001)).length; // 1_000_005
 * ```
 */
export function truncateLikeUpstream(
  text: string,
  limits: TruncationLimits = UPSTREAM_TRUNCATION,
): { text: string; truncated: boolean } {
  // A string of at most maxChars UTF-16 units has at most maxChars code points: skip the count.
  if (text.length <= limits.maxChars || codePointLength(text) <= limits.maxChars) return { text, truncated: false };
  return {
    text: `${headCodePoints(text, limits.headChars)}${WIRE_OUTPUT_ELLIPSIS}${tailCodePoints(text, limits.tailChars)}`,
    truncated: true,
  };
}

/**
 * `V0JobFinishedRequest.upload_results` as upstream builds it: `{key: json.dumps(response.dict())}` with the fields
 * of `HttpOutputVolumeResponse` in declaration order (headers, then body).
 */
export function toUploadResults(
  responses: Readonly<Record<string, HttpOutputVolumeResponse>>,
): Record<string, string> {
  const results: Record<string, string> = {};
  for (const [key, response] of Object.entries(responses)) {
    results[key] = pythonJsonDumps({ headers: { ...response.headers }, body: response.body });
  }
  return results;
}

/**
 * Adds `:latest` when an image reference has neither tag nor digest. Unlike upstream's `fix_docker_tag` (which looks
 * for any `:`), a registry port (`registry:5000/app`) is not mistaken for a tag.
 */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? image : `${image}:latest`;
}
