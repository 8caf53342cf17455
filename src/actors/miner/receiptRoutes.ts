import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestPath, respondJson, type Route } from '../../http/router';
import { pageFromPath, parseRange } from './receiptPages';

/** What the receipts route reads: the store's page paths and how much of each page is complete. */
export interface ReceiptPageSource {
  pagePath(page: number): string;
  servableSize(page: number): number | undefined;
}

/**
 * `GET|HEAD /receipts/<page>.jsonl`: one page of receipts, with single byte-range support (206, and 416 for a range
 * starting at or past the end: upstream's validator asks `Range: bytes=<checkpoint>-` and reads 416 as "nothing
 * new"). Only complete lines are served (a page being appended to is cut at its last complete line). Every other
 * path under `/receipts/` is a 404: the page number is the only thing taken from the URL.
 *
 * @example
 * ```ts
 * router.use(receiptsRoute(store));
 * // curl -H 'Range: bytes=1024-' http://miner:8000/receipts/5666667.jsonl
 * ```
 */
export function receiptsRoute(source: ReceiptPageSource): Route {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = requestPath(req);
    if (!path.startsWith('/receipts/')) return false;
    const page = pageFromPath(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      respondJson(res, 405, { error: 'method_not_allowed' });
      return true;
    }
    const size = page === undefined ? undefined : source.servableSize(page);
    if (page === undefined || size === undefined) {
      respondJson(res, 404, { error: 'not_found', path }, req.method === 'HEAD');
      return true;
    }
    const range = parseRange(req.headers.range, size);
    const common = { 'content-type': 'application/jsonl', 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
    if (range.kind === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'content-range': `bytes */${size}`, 'content-length': 0 });
      res.end();
      return true;
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : size - 1;
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range.kind === 'partial' ? 206 : 200, {
      ...common,
      'content-length': length,
      ...(range.kind === 'partial' ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return true;
    }
    const stream = createReadStream(source.pagePath(page), { start, end });
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
    return true;
  };
}
