// The soak's mail server: smtp-server on 127.0.0.1, no AUTH, no TLS, that records the
// Message-ID, Subject and arrival time of every message it accepts. It can stop (the port
// is then refused, like a mail server that is down) and listen again on the same port.
// Only the headers are read: the checker needs ids, and a full parse of a few thousand
// messages would compete with the writer for this process's time.

import { SMTPServer } from 'smtp-server';

/** How long a stopping server lets a transaction in flight finish before cutting it. */
const CLOSE_MS = 500;

function headers(raw) {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r\n[ \t]+/g, ' ');
  const get = (name) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? null;
  return { messageId: get('Message-ID')?.replace(/^<|>$/g, '') ?? null, subject: get('Subject') };
}

export async function startSink() {
  /** { messageId, subject, at } in arrival order. */
  const received = [];
  /** { down, up } wall-clock ms of each outage (up null while down). */
  const outages = [];
  let server = null;
  let port = 0;

  const listen = () => new Promise((resolve, reject) => {
    server = new SMTPServer({
      authOptional: true,
      hideSTARTTLS: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      closeTimeout: CLOSE_MS,
      logger: false,
      onData(stream, session, callback) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const h = headers(Buffer.concat(chunks).toString('latin1'));
          received.push({ ...h, at: Date.now() });
          // Before the reply: a hook that kills the sender here leaves a message the server
          // accepted and the sender never saw accepted.
          sink.onAccept?.(h);
          callback(null, 'queued');
        });
      },
    });
    server.on('error', () => {});
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      port = server.server.address().port;
      resolve();
    });
  });

  await listen();
  const sink = {
    /** Called with each accepted message's headers, before the server replies 250. */
    onAccept: null,
    host: '127.0.0.1',
    get port() { return port; },
    get up() { return server !== null; },
    received,
    outages,
    stop() {
      const s = server;
      if (s === null) return Promise.resolve();
      server = null;
      outages.push({ down: Date.now(), up: null });
      return new Promise((r) => s.close(() => r()));
    },
    async start() {
      if (server !== null) return;
      await listen();
      outages[outages.length - 1].up = Date.now();
    },
  };
  return sink;
}
