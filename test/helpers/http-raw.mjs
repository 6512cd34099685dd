// HTTP as a hostile client speaks it: raw bytes on a socket (any Host, any framing, bodies
// that never end), answers parsed loosely, and a Prometheus sample reader. For tests of the
// endpoint's bounds; well-behaved requests use fetch.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createLogger } from '../../dist/util/logger.js';

/** A status provider with fixed answers, for a server under test without a daemon behind it. */
export function fixedStatus({ sources = [], events = 0, lastLineAt = null } = {}) {
  const withSource = sources.length > 0;
  return {
    sources: () => sources.map((source) => ({ source, kind: 'file', lines: 10, parsed: 10, notParsed: 0, events, lastLineAt, lagBytes: 0 })),
    ruleEvents: () => (withSource ? { ssh_bruteforce: events } : {}),
    ruleKeys: () => (withSource ? { ssh_bruteforce: { held: 1, evicted: 0 } } : {}),
    incidents: () => (withSource ? { alerted: 1, open: 1 } : { alerted: 0, open: 0 }),
    outboxDepth: () => 0,
    enrichCache: () => null,
    health: () => ({ ok: true, problems: [] }),
  };
}

/** A logger whose records are kept as parsed objects, to assert on what was logged. */
export function memoryLogger() {
  const lines = [];
  const log = createLogger({ level: 'info', destination: { write: (l) => { lines.push(JSON.parse(l)); } } });
  return { log, lines };
}

/** Sends `text` on a new connection; resolves with what came back until the server closed or `ms` passed. */
export function rawExchange(url, text, { ms = 3000, endAfterWrite = false } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks = [];
    const socket = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    const done = (closed) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => done(true));
    socket.on('connect', () => (endAfterWrite ? socket.end(text) : socket.write(text)));
  });
}

/** The status code of the first answer in raw response text, or null. */
export function statusOf(text) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m === null ? null : Number(m[1]);
}

/** One request with node:http, which (unlike fetch) lets a test set the Host header. */
export function request(url, { method = 'GET', path = '/', headers = {}, body = null } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** The value of one sample line of Prometheus text. */
export function sample(text, name, labels = '') {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Resident memory of a process in bytes, from /proc/<pid>/status. */
export function rssOf(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

