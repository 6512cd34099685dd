// A real SMTP server for tests (smtp-server on 127.0.0.1): optional AUTH, plain, STARTTLS
// or implicit TLS with a certificate made here, every received message parsed with
// mailparser. It can refuse the next messages with a chosen reply, and stop and start
// again on the same port to play a server that is down for a while.

import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import selfsigned from 'selfsigned';

/** A self-signed certificate for localhost and 127.0.0.1 (usable as its own CA). */
export async function makeCert() {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 7 * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/**
 * Starts a server. tls: 'none' (STARTTLS not offered), 'starttls' (offered), 'implicit'
 * (TLS from the first byte). auth: { user, pass } to require AUTH, or null. delayMs: how
 * long it takes to accept each message (a slow server keeps senders busy at once).
 */
export async function startSmtpServer({ tls = 'none', auth = null, cert = null, delayMs = 0 } = {}) {
  const messages = [];
  const failures = [];
  const waiters = [];
  let server = null;
  let port = 0;

  const options = () => ({
    secure: tls === 'implicit',
    ...(tls !== 'none' ? { key: cert.key, cert: cert.cert } : {}),
    hideSTARTTLS: tls === 'none',
    authOptional: auth === null,
    allowInsecureAuth: true,
    // hideSTARTTLS alone leaves the command usable (with a built-in, expired certificate).
    disabledCommands: [...(auth === null ? ['AUTH'] : []), ...(tls === 'none' ? ['STARTTLS'] : [])],
    closeTimeout: 50,
    logger: false,
    onAuth(a, session, callback) {
      if (auth !== null && a.username === auth.user && a.password === auth.pass) return callback(null, { user: a.username });
      const err = new Error('Authentication credentials invalid');
      err.responseCode = 535;
      return callback(err);
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', async () => {
        const failure = failures.shift();
        if (failure !== undefined) {
          const err = new Error(failure.message);
          err.responseCode = failure.code;
          return callback(err);
        }
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        const raw = Buffer.concat(chunks);
        const parsed = await simpleParser(raw);
        messages.push({ envelope: { from: session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address) }, user: session.user ?? null, secure: session.secure, parsed, raw: raw.toString('utf8') });
        for (const w of waiters.splice(0)) w();
        callback(null, 'queued as test');
      });
    },
  });

  const listen = () => new Promise((resolve, reject) => {
    server = new SMTPServer(options());
    server.on('error', () => {});
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      port = server.server.address().port;
      resolve();
    });
  });

  await listen();
  return {
    host: '127.0.0.1',
    get port() { return port; },
    messages,
    /** The next `count` messages are answered with `code message` at the end of DATA. */
    failNext(code, message, count = 1) {
      for (let i = 0; i < count; i++) failures.push({ code, message });
    },
    /** How many received messages carry this Message-ID (without angle brackets). */
    countById(id) {
      return messages.filter((m) => m.parsed.messageId === `<${id}>`).length;
    },
    /** Resolves when at least n messages were received (rejects after timeoutMs). */
    async waitFor(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`SMTP test server: ${messages.length} of ${n} messages received after ${timeoutMs} ms`);
        await new Promise((r) => {
          const t = setTimeout(r, 50);
          waiters.push(() => { clearTimeout(t); r(); });
        });
      }
    },
    /** Stops listening (the port stays reserved for start()). */
    stop() {
      const s = server;
      server = null;
      return s === null ? Promise.resolve() : new Promise((r) => s.close(() => r()));
    },
    /** Listens again on the same port. */
    start() {
      return server !== null ? Promise.resolve() : listen();
    },
  };
}

/** A TCP server that accepts connections and never answers (an SMTP greeting timeout). */
export async function startSilentServer() {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: '127.0.0.1',
    port: server.address().port,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function closedPort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}
