// How the HTTP endpoint writes a whole response: the content types, the no-store and nosniff
// defaults of every answer and the security headers of the HTML pages under a fresh nonce.
// Shared by routes, auth and sse so each answers the same way. It never decides what to
// answer, and never reads a request.

import { randomBytes } from 'node:crypto';
import type http from 'node:http';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
export const HTML_TYPE = 'text/html; charset=utf-8';

/** A fresh nonce for one HTML page's inline style and script. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Headers for the HTML pages: nothing but their own inline code, under a fresh nonce. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
}

/** Sent with every answer: no browser guesses another type than the one declared. */
export const BASE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

export function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...BASE_HEADERS, ...headers });
  res.end(body);
}
