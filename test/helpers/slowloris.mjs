// A slowloris client, run as its own process: holds COUNT connections to PORT, each sending
// a request's headers one line every few seconds and never ending them; a connection the
// server closes is opened again on its next tick, as attack tools do. Prints one JSON line
// of counts every second to stdout, and stops after MS milliseconds.
//   node slowloris.mjs PORT COUNT MS

import net from 'node:net';

const [port, count, ms] = process.argv.slice(2).map(Number);
const TICK_MS = 3000;
const stats = { open: 0, connects: 0, closedByServer: 0, failed: 0 };
let stopping = false;

function slot() {
  let socket = null;
  const connect = () => {
    if (stopping) return;
    const s = net.connect(port, '127.0.0.1');
    socket = s;
    let connected = false;
    s.on('error', () => {});
    s.on('connect', () => {
      connected = true;
      stats.open++;
      stats.connects++;
      s.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    });
    s.on('data', () => {});
    s.on('close', () => {
      if (!connected) stats.failed++;
      else {
        stats.open--;
        if (!stopping) stats.closedByServer++;
      }
      socket = null;
    });
  };
  // Spread the connections over the first tick, then keep each one slowly "talking".
  setTimeout(connect, Math.random() * TICK_MS);
  const timer = setInterval(() => {
    if (socket === null) connect();
    else if (!socket.connecting && !socket.destroyed) socket.write(`X-Slow-${Math.floor(Math.random() * 1e6)}: 1\r\n`);
  }, TICK_MS);
  return () => {
    clearInterval(timer);
    socket?.destroy();
  };
}

const stops = Array.from({ length: count }, () => slot());
const report = setInterval(() => process.stdout.write(`${JSON.stringify(stats)}\n`), 1000);
setTimeout(() => {
  stopping = true;
  for (const stop of stops) stop();
  clearInterval(report);
  process.stdout.write(`${JSON.stringify({ ...stats, done: true })}\n`);
  setTimeout(() => process.exit(0), 200);
}, ms);
