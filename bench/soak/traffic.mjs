// The soak's writer: steady appends to one auth.log at a fixed rate, and its rotation the
// way logrotate does it (rename-then-create or copytruncate, older files shifted to .2,
// .3 ... and deleted past `keep`). It runs in the soak's own process and is synchronous,
// so a rotation never falls between two halves of a write: logrotate's own copytruncate
// race (lines written between the copy and the truncation) cannot happen here, and any
// line that goes missing is the reader's doing.
//
// Attack lines carry their sequence number in the user name (`soak<seq>`), which every
// event records, so the checker can match each written attack line to its events. They
// come from campaigns: one address of 198.18.0.0/15 per campaign, a few lines each
// (some below ssh_bruteforce's threshold of 5, so they must never alert), interleaved.
// The rest are lines of a generated auth.log restamped with the current time.

import fs from 'node:fs';
import { prng } from '../../test/helpers/prng.mjs';

export { prng };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n) => (n < 10 ? `0${n}` : String(n));
function stamp(ms) {
  const d = new Date(ms);
  const day = d.getUTCDate();
  return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}

export const ipOf = (c) => `198.${18 + ((c >>> 16) & 1)}.${(c >>> 8) & 255}.${c & 255}`;
export const SEQ_USER = /^soak(\d+)$/;

/** The first `count` lines of a generated auth.log, without their 15-character stamps. */
export function loadBackground(file, count) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(Math.min(fs.fstatSync(fd).size, Math.max(1000, count) * 260));
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const lines = buf.latin1Slice(0, n).split('\n');
  lines.pop(); // possibly cut
  return lines.slice(0, count).map((l) => l.slice(15));
}

export class Traffic {
  /**
   * file: the followed log; rate: lines/s; attackShare: fraction of attack lines;
   * background: stampless lines; keep: rotated files kept; rnd: seeded PRNG.
   */
  constructor({ file, rate, attackShare, background, keep, rnd, campaigns = 4 }) {
    Object.assign(this, { file, rate, attackShare, background, keep, rnd });
    this.fd = fs.openSync(file, 'a');
    this.t0 = 0;
    this.written = 0;
    this.bg = 0;
    /** Per attack line (index = seq): campaign, file generation, wall time written. */
    this.attacks = { campaign: [], gen: [], at: [] };
    /** Per campaign: lines it was given. */
    this.campaignLines = [];
    this.active = [];
    for (let i = 0; i < campaigns; i++) this.active.push(this.newCampaign());
    /** Generation of the content now in `file` (changes at every rotation). */
    this.gen = 0;
    this.rotations = [];
  }

  newCampaign() {
    const c = this.campaignLines.length;
    // 2..9 lines: about a third stay below the threshold of 5.
    this.campaignLines.push(0);
    return { c, target: 2 + Math.floor(this.rnd() * 8) };
  }

  start(now) {
    this.t0 = now;
  }

  attackLine(now) {
    const k = Math.floor(this.rnd() * this.active.length);
    const camp = this.active[k];
    const seq = this.attacks.campaign.length;
    this.attacks.campaign.push(camp.c);
    this.attacks.gen.push(this.gen);
    this.attacks.at.push(now);
    this.campaignLines[camp.c]++;
    if (this.campaignLines[camp.c] >= camp.target) this.active[k] = this.newCampaign();
    const ip = ipOf(camp.c);
    const pid = 10000 + (seq % 50000);
    const port = 1024 + Math.floor(this.rnd() * 60000);
    return this.rnd() < 0.8
      ? `${stamp(now)} srv01 sshd[${pid}]: Failed password for invalid user soak${seq} from ${ip} port ${port} ssh2\n`
      : `${stamp(now)} srv01 sshd[${pid}]: Invalid user soak${seq} from ${ip} port ${port}\n`;
  }

  /** Writes the lines due by `now` (ms) in one write(). */
  tick(now) {
    const due = Math.floor(((now - this.t0) / 1000) * this.rate) - this.written;
    if (due <= 0) return 0;
    let chunk = '';
    const st = stamp(now);
    for (let i = 0; i < due; i++) {
      if (this.rnd() < this.attackShare) chunk += this.attackLine(now);
      else chunk += `${st}${this.background[this.bg++ % this.background.length]}\n`;
    }
    fs.writeSync(this.fd, chunk);
    this.written += due;
    return due;
  }

  shift() {
    for (let i = this.keep; i >= 1; i--) {
      const from = i === 1 ? null : `${this.file}.${i - 1}`;
      const to = `${this.file}.${i}`;
      if (i === this.keep) fs.rmSync(to, { force: true });
      if (from !== null && fs.existsSync(from)) fs.renameSync(from, to);
    }
  }

  /** logrotate's default: rename to .1, create a new file. */
  renameCreate(now, daemonUp) {
    this.shift();
    fs.closeSync(this.fd);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, 'a');
    this.rotations.push({ at: now, kind: 'rename', gen: this.gen, lastSeq: this.attacks.gen.length - 1, daemonUp });
    this.gen++;
  }

  /** copytruncate: copy to .1, truncate in place (the writer's O_APPEND fd goes on at 0). */
  copyTruncate(now, daemonUp) {
    this.shift();
    fs.copyFileSync(this.file, `${this.file}.1`);
    fs.truncateSync(this.file, 0);
    this.rotations.push({ at: now, kind: 'copytruncate', gen: this.gen, lastSeq: this.attacks.gen.length - 1, daemonUp });
    this.gen++;
  }

  close() {
    fs.closeSync(this.fd);
  }
}
