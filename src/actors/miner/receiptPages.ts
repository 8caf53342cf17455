/**
 * Pure helpers of the receipt page store: which page a moment belongs to, which page a URL names, and what an HTTP
 * `Range` header asks of a page.
 */
import { RECEIPT_PAGE_SECONDS } from './defaults';

/**
 * The page receipts stored at `nowMs` go to: `floor(unix_seconds / pageSeconds)` (upstream `current_page_at`).
 *
 * @example
 * ```ts
 * pageAt(1_700_000_123_456); // 5_666_667
 * ```
 */
export function pageAt(nowMs: number, pageSeconds = RECEIPT_PAGE_SECONDS): number {
  return Math.floor(nowMs / 1000 / pageSeconds);
}

const PAGE_PATH = /^\/receipts\/(\d{1,15})\.jsonl$/;

/**
 * The page number a request path names, or undefined. Only `/receipts/<digits>.jsonl` matches, so no path can reach
 * outside the pages directory.
 *
 * @example
 * ```ts
 * pageFromPath('/receipts/5666667.jsonl'); // 5666667
 * pageFromPath('/receipts/../etc/passwd');  // undefined
 * ```
 */
export function pageFromPath(path: string): number | undefined {
  const match = PAGE_PATH.exec(path);
  if (match === null) return undefined;
  const page = Number(match[1]);
  return Number.isSafeInteger(page) ? page : undefined;
}

/** What a `Range` header asks for, resolved against the size of the page. */
export type RangeRequest =
  /** No (usable) Range header: send the whole page with 200. */
  | { readonly kind: 'full' }
  /** One satisfiable range: send bytes start..end inclusive with 206. */
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  /** A syntactically valid range past the end: answer 416 with `Content-Range: bytes *\/size`. */
  | { readonly kind: 'unsatisfiable' };

/**
 * Resolves a `Range` header (RFC 9110 §14) against a resource of `size` bytes. One byte range is served
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n`); a header that is not a byte range, or asks for several ranges, is ignored
 * (the whole page is sent, as the RFC allows). Upstream's validator asks `bytes=<checkpoint>-` and reads 416 as
 * "nothing new".
 *
 * @example
 * ```ts
 * parseRange('bytes=100-', 150); // { kind: 'partial', start: 100, end: 149 }
 * parseRange('bytes=150-', 150); // { kind: 'unsatisfiable' }
 * ```
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    if (size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable' };
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}
