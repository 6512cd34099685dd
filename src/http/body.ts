// Reading a request body with a bound: a body declared or found longer than the limit is
// answered 413 (and its connection closed) instead of being buffered; what was read stays
// under the limit. The rest of such a body is read and dropped, never kept, until the
// connection closes or http.request_timeout_secs ends it. It never decides what a body means.

import type http from 'node:http';
import { send, TEXT_TYPE } from './respond.js';

/** Whether the declared Content-Length is over `limit`; if so, it has answered 413. */
export function declaredTooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit: number): boolean {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!(declared > limit)) return false;
  tooLarge(req, res, limit);
  return true;
}

/** The body as text, or null when it was over `limit` (then it has answered 413) or cut off. */
export function readBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number): Promise<string | null> {
  if (declaredTooLarge(req, res, limit)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      tooLarge(req, res, limit);
      resolve(null);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData);
    req.once('end', onEnd);
    // A client that leaves half-way: nothing to answer.
    req.once('close', () => resolve(null));
  });
}

function tooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit: number): void {
  // Drop the rest as it comes; the connection ends after the answer.
  req.resume();
  send(res, 413, TEXT_TYPE, `request body too large: at most ${limit} bytes\n`, { Connection: 'close' });
}
