// The one module that talks to the HTTP client library (got): a GET and a POST with text
// bodies, each bounded by a request timeout and an optional abort signal. Every answer is
// returned whatever its status; a request that got no answer is returned as a failure with
// the system code and a plain message, never thrown. It never retries, never follows a
// redirect and never logs: callers decide what a status means and how to word a failure,
// and callers scrub their own secrets (a token in a URL) from what they report.

import { got, type Response } from 'got';

export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface HttpRequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole request, from connecting to the last byte of the answer. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type HttpResult =
  /** The server answered (any status, 1xx aside). */
  | { readonly kind: 'response'; readonly status: number; readonly headers: HttpHeaders; readonly body: string }
  /** No answer: refused, DNS, reset, timeout or aborted. */
  | { readonly kind: 'failed'; readonly failure: HttpFailure };

export interface HttpFailure {
  /** The system or library code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ERR_ABORTED, ...), or null. */
  readonly code: string | null;
  /** No answer within timeoutMs. */
  readonly timedOut: boolean;
  /** The library's one-line description. */
  readonly message: string;
}

export function httpGet(url: string, opts: HttpRequestOptions): Promise<HttpResult> {
  return send(url, 'GET', undefined, opts);
}

/** POSTs `body` as it is: the caller sets content-type (and signs the exact bytes if it signs). */
export function httpPost(url: string, body: string, opts: HttpRequestOptions): Promise<HttpResult> {
  return send(url, 'POST', body, opts);
}

async function send(url: string, method: 'GET' | 'POST', body: string | undefined, opts: HttpRequestOptions): Promise<HttpResult> {
  let res: Response<string>;
  try {
    res = await got(url, {
      method,
      ...(body !== undefined ? { body } : {}),
      ...(opts.headers !== undefined ? { headers: { ...opts.headers } } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      timeout: { request: opts.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
    });
  } catch (err) {
    return { kind: 'failed', failure: describeFailure(err) };
  }
  return { kind: 'response', status: res.statusCode, headers: res.headers, body: res.body };
}

function describeFailure(err: unknown): HttpFailure {
  const e = (err !== null && typeof err === 'object' ? err : {}) as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : null;
  return {
    code,
    timedOut: e.name === 'TimeoutError' || code === 'ETIMEDOUT',
    message: String(e.message ?? err),
  };
}
