#!/usr/bin/env node
// Writer process of the append-to-alert benchmark (run-bench.mjs forks it with an IPC
// channel; it is never the daemon's process nor the measuring parent).
//
// It appends auth.log lines to a file at a fixed rate for a fixed time, paced like
// /work/shared/bench/tail-latency.mjs: the lines that fall due in one timer tick are
// joined into one write(). The stream is background noise (lines of a generated
// auth.log, stamped with the current time) plus probes: every probe is a burst of
// `burst` "Failed password" lines from a NEW source IP (198.19.x.y), spread over the
// probe's slot (of random length around rate/probesPerSec lines), so the probe's last line is the one that makes ssh_bruteforce reach its
// threshold for that IP. Just before the write() holding a probe's last line, the writer
// takes process.hrtime (CLOCK_MONOTONIC, the same clock in every process on the host).
// At the end it sends {probes: [[ip, ns], ...], written} to the parent, so IPC traffic
// never competes with the measurement.
//
// Parent -> writer message: {file, rate, seconds, probesPerSec, burst, noiseFile, probeBase}
// or {mode: 'quiet', file, count, burst, gapMs, pauseMs, probeBase} (see quiet()).

import fs from 'node:fs';
import { loadNoise, syslogStamp as stamp } from './util.mjs';

function run(cfg) {
  if (cfg.mode === 'quiet') return quiet(cfg);
  const { file, rate, seconds, probesPerSec, burst, noiseFile, probeBase } = cfg;
  const total = Math.round(rate * seconds);
  // Enough lines of the generated auth.log for the whole run (read from its start).
  const noise = loadNoise(noiseFile, Math.max(1000, total));
  // Probe slots of random length (mean rate/probesPerSec lines, +-1/3, seeded), so the
  // probes' phase does not lock to any periodic behaviour of the reader. In each slot the
  // burst's lines are spread evenly and the last one ends the slot.
  // which[k] = burst line number of line k, or -1 for noise; slotOf[k] = its probe number.
  const mean = Math.max(burst, rate / probesPerSec);
  const which = new Int8Array(total).fill(-1);
  const slotOf = new Int32Array(total);
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let at = 0, p = 0; ; p++) {
    const len = Math.max(burst, Math.round(mean * (2 / 3 + rnd() * 2 / 3)));
    if (at + len > total) break;
    for (let b = 0; b < burst; b++) {
      const k = at + (b === burst - 1 ? len - 1 : Math.floor((b * (len - 1)) / (burst - 1)));
      which[k] = b;
      slotOf[k] = p;
    }
    at += len;
  }

  const probes = [];
  let noiseI = 0;
  const fd = fs.openSync(file, 'a');
  const start = process.hrtime.bigint();
  let sent = 0;
  const tick = () => {
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    const due = Math.min(total, Math.floor(elapsed * rate)) - sent;
    if (due > 0) {
      const st = stamp();
      let chunk = '';
      const finished = [];
      for (let k = sent; k < sent + due; k++) {
        const b = which[k];
        if (b >= 0) {
          const p = probeBase + slotOf[k];
          const ip = `198.19.${(p >>> 8) & 255}.${p & 255}`;
          chunk += `${st} srv01 sshd[${20000 + (p % 30000)}]: Failed password for invalid user probe${b} from ${ip} port ${40000 + b} ssh2\n`;
          if (b === burst - 1) finished.push(ip);
        } else {
          chunk += st + noise[noiseI++ % noise.length] + '\n';
        }
      }
      const t = process.hrtime.bigint();
      fs.writeSync(fd, chunk);
      for (const ip of finished) probes.push([ip, String(t)]);
      sent += due;
    }
    if (sent < total) {
      const next = ((sent + 1) / rate - elapsed) * 1000; // ms until the next line falls due
      setTimeout(tick, Math.max(0, next));
    } else {
      fs.closeSync(fd);
      process.send({ probes, written: sent, wallSec: Number(process.hrtime.bigint() - start) / 1e9 }, () => process.disconnect());
    }
  };
  setTimeout(tick, 0);
}

/**
 * A quiet log: `count` probes, each written as `burst` separate write()s `gapMs` apart
 * (a syslog daemon writes line by line), then `pauseMs` of silence before the next.
 */
function quiet(cfg) {
  const { file, count, burst, gapMs, pauseMs, probeBase } = cfg;
  const fd = fs.openSync(file, 'a');
  const probes = [];
  let p = 0, b = 0;
  const step = () => {
    const ip = `198.19.${((probeBase + p) >>> 8) & 255}.${(probeBase + p) & 255}`;
    const line = `${stamp()} srv01 sshd[${20000 + p}]: Failed password for invalid user probe${b} from ${ip} port ${40000 + b} ssh2\n`;
    const t = process.hrtime.bigint();
    fs.writeSync(fd, line);
    if (++b < burst) return setTimeout(step, gapMs);
    probes.push([ip, String(t)]);
    b = 0;
    if (++p < count) return setTimeout(step, pauseMs);
    fs.closeSync(fd);
    process.send({ probes, written: count * burst, wallSec: 0 }, () => process.disconnect());
  };
  setTimeout(step, 0);
}

process.once('message', run);
