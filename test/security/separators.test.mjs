// Separators and control characters cannot blind detection (issue 16). A remote party
// chooses a user name, a URL, a referer, a user agent, a Host header, a PAM ruser/user or
// a disconnect message; "." in a pattern stops at U+2028, U+2029 and CR, and "\S" at a
// tab, NBSP and the other Unicode spaces, so such a character in one of those fields used
// to make a line of an attack match nothing. Here every attacker-chosen field of every
// builtin rule's sample lines (test/fixtures/rules/, fields marked below) and of the
// covered families of fail2ban's corpus gets each character inserted at its start, middle
// and end, one field at a time and all at once, and the events must be those of the plain
// lines: the same rules, addresses and counts, the user in its visible escaped form.

import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, SHARED } from '../helpers/cli.mjs';
import { loadConfig, rulesOf } from '../../dist/config/load.js';
import { Detector } from '../../dist/core/detector.js';
import { visibleLine } from '../../dist/core/visible.js';
import { escapeControls } from '../../dist/util/text.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'rules');
const CORPUS = path.join(SHARED, 'corpus', 'fail2ban');

// Tab, line and paragraph separators, NEL, a few more C0 (NUL, SOH, CR, VT, FF, ESC), C1
// (CSI), DEL, Unicode spaces "\s" matches, a BOM and a bidi override. Never "\n": it ends
// the line before any rule sees it (a fake second line is rule-forgery.test.mjs's case).
const CHARS = ['\t', '\u2028', '\u2029', '\u0085', '\u0000', '\u0001', '\r', '\u000b', '\u000c', '\u001b', '\u007f', '\u009b', '\u00a0', '\u2007', '\u3000', '\ufeff', '\u202e'];
const WHERE = ['start', 'middle', 'end'];

// Every line of every fixture, in order, with the text a remote party chooses between « ».
// Local fields (a sudo user's own account name, tty, uid) are not marked; a local user
// does choose the directory and command sudo logs.
const MARKED = {
  'errors.log': [
    'Oct 14 12:03:45 host1 app[555]: ERROR: «database connection timeout»',
    'Oct 14 12:03:46 host1 worker[556]: [ERROR] «queue full, dropping job 42»',
    'Oct 14 12:03:47 host1 app[555]: CRITICAL «disk almost full»',
    'Oct 14 12:03:48 host1 sshd[557]: error: kex_exchange_identification: read: Connection reset by peer',
    'Oct 14 12:03:49 host1 app[555]: «request failed» with status 500 (no ERROR prefix)',
    '<11>1 2025-10-14T12:03:50Z web1 nginx 77 - - «upstream timed out»',
    '<14>1 2025-10-14T12:03:51Z web1 nginx 77 - - «upstream recovered»',
  ],
  'haproxy.log': [
    'Oct 14 08:07:00 lb haproxy[760]: 192.168.33.1:58430 [14/Oct/2025:08:07:00.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "GET «/» HTTP/1.1"',
    'Oct 14 08:07:01 lb haproxy[760]: 2001:db8::1234:58431 [14/Oct/2025:08:07:01.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "GET «/» HTTP/1.1"',
    'Oct 14 08:07:02 lb haproxy[760]: 192.168.33.2:58444 [14/Oct/2025:08:07:02.439] main app/app1 1939/0/1/0/1940 403 5168 - - ---- 3/3/0/0/0 0/0 "GET «/» HTTP/1.1"',
    'Oct 14 08:07:03 lb haproxy[760]: 192.168.33.3:58445 [14/Oct/2025:08:07:03.439] main app/app1 10/0/1/0/11 200 5168 - - ---- 3/3/0/0/0 0/0 "GET «/» HTTP/1.1"',
  ],
  'pam.log': [
    'Oct 14 12:20:00 ftp1 proftpd: pam_unix(proftpd:auth): authentication failure; logname= uid=0 euid=0 tty=/dev/ftpd1234 ruser=«mark» rhost=203.0.113.60  user=«mark»',
    'Oct 14 12:20:01 ftp1 vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=«anonymous» rhost=203.0.113.61',
    'Oct 14 12:20:02 ftp1 daemon: pam_unix(auth): authentication failure; logname= uid=0 euid=0 tty=xxx ruser=«x rhost=6.6.6.6» rhost=203.0.113.62',
    'Oct 14 12:20:03 host1 sshd[6001]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.63  user=«root»',
    'Oct 14 12:20:04 host1 sudo[6002]: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice',
  ],
  'ssh.log': [
    'Oct 14 12:01:10 host1 sshd[2001]: Failed password for «root» from 203.0.113.7 port 51422 ssh2',
    'Oct 14 12:01:11 host1 sshd[2002]: Failed password for invalid user «admin» from 203.0.113.8 port 51423 ssh2',
    'Oct 14 12:01:12 host1 sshd[2003]: Invalid user «oracle» from 203.0.113.9 port 40000',
    'Oct 14 12:01:13 host1 sshd-session[2004]: Failed password for «root» from 2001:db8::7 port 40001 ssh2',
    'Oct 14 12:01:14 host1 sshd[2005]: Failed password for invalid user «git» from ::ffff:203.0.113.7 port 40002 ssh2',
    'Oct 14 12:01:15 host1 sshd[2006]: Failed password for invalid user «x from 1.2.3.4 port 22 ssh2» from 198.51.100.20 port 40003 ssh2',
    'Oct 14 12:01:16 host1 sshd[2007]: Failed password for invalid user «y from 198.51.100.21 port 40004 ssh2:» from 1.2.3.4 port 22 ssh2',
    'Oct 14 12:01:17 host1 sshd[2008]: error: maximum authentication attempts exceeded for «root» from 198.51.100.22 port 40005 ssh2 [preauth]',
    'Oct 14 12:01:18 host1 sshd[2009]: Failed publickey for «deploy» from 192.0.2.10 port 40006 ssh2: ED25519 SHA256:abc',
    'Oct 14 12:01:19 host1 sshd[2009]: Accepted publickey for «deploy» from 192.0.2.10 port 40006 ssh2: ED25519 SHA256:def',
    'Oct 14 12:01:20 host1 sshd[2010]: error: kex_exchange_identification: Connection closed by remote host',
    'Oct 14 12:01:21 host1 sshd[2011]: Connection closed by 198.51.100.30 port 40007 [preauth]',
    'Oct 14 12:01:22 host1 sshd[2012]: Received disconnect from 198.51.100.31 port 40008:11: «Bye Bye» [preauth]',
    'Oct 14 12:01:23 host1 sshd[2013]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)',
    'Oct 14 12:01:24 host1 sshd[2014]: Connection from 198.51.100.40 port 40009 on 192.0.2.1 port 22',
    'Oct 14 12:01:25 host1 sshd[2014]: Disconnecting: Too many authentication failures for «root» [preauth]',
    "Oct 14 12:01:26 host1 dropbear[3001]: Bad password attempt for '«root»' from 198.51.100.50:5543",
    'Oct 14 12:01:27 host1 dropbear[3002]: Login attempt for nonexistent user from ::ffff:198.51.100.51:60495',
    'Oct 14 12:01:28 host1 myapp[4001]: Failed password for «root» from 203.0.113.99 port 1 ssh2',
  ],
  'sudo.log': [
    'Oct 14 12:10:00 host1 sudo[5001]: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice',
    'Oct 14 12:10:09 host1 sudo[5001]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=«/home/alice» ; USER=root ; COMMAND=«/usr/bin/apt update»',
    'Oct 14 12:11:00 host1 sudo[5002]:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=«/home/bob» ; USER=root ; COMMAND=«/bin/bash»',
    'Oct 14 12:11:30 host1 sudo[5003]:    carol : 1 incorrect password attempt ; TTY=pts/2 ; PWD=«/home/carol» ; USER=root ; COMMAND=«/usr/bin/id»',
    'Oct 14 12:12:00 host1 sudo[5004]:    alice : TTY=pts/0 ; PWD=«/home/alice» ; USER=root ; COMMAND=«/usr/bin/apt update»',
    'Oct 14 12:12:00 host1 sudo[5004]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)',
    'Oct 14 12:12:01 host1 sudo[5004]: pam_unix(sudo:session): session closed for user root',
    'Oct 14 12:13:00 host1 su[5005]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 ruser=alice rhost=  user=«root»',
  ],
  'web-access.log': [
    '203.0.113.80 - - [14/Oct/2025:12:30:00 +0000] "POST «/login» HTTP/1.1" 401 120 "«-»" "«python-requests/2.31»"',
    '2001:db8::80 - - [14/Oct/2025:12:30:01 +0000] "GET «/admin» HTTP/1.1" 403 120 "«-»" "«curl/8.0»"',
    '203.0.113.81 - «admin» [14/Oct/2025:12:30:02 +0000] "GET «/private/» HTTP/1.1" 401 120 "«-»" "«Mozilla/5.0»"',
    '203.0.113.82 - - [14/Oct/2025:12:30:03 +0000] "GET «/x\\" 401 1 \\"y» HTTP/1.1" 200 120 "«-»" "«Mozilla/5.0»"',
    '203.0.113.83 - - [14/Oct/2025:12:30:04 +0000] "GET «/.env» HTTP/1.1" 404 153 "«-»" "«Mozilla/5.0 zgrab/0.x»"',
    '203.0.113.84 - - [14/Oct/2025:12:30:05 +0000] "GET «/» HTTP/1.1" 200 5120 "«-»" "«Mozilla/5.0»"',
    '203.0.113.84 - - [14/Oct/2025:12:30:05 +0000] "GET «/style.css» HTTP/1.1" 304 0 "«https://example.com/»" "«Mozilla/5.0»"',
  ],
  'web-error.log': [
    '[Tue Oct 14 12:40:00.123456 2025] [auth_basic:error] [pid 1234:tid 5678] [client 203.0.113.90:51234] AH01618: user «admin» not found: «/private»',
    '[Tue Oct 14 12:40:01 2025] [error] [client 203.0.113.91] File does not exist: /var/www/«[client 6.6.6.6] user root not found»',
    '[Tue Oct 14 12:40:02.000001 2025] [cgi:error] [pid 99] [client 203.0.113.92:4000] AH02811: script not found or unable to stat: /usr/lib/cgi-bin/«luci»',
  ],
  'web-nginx-error.log': [
    '2025/10/14 12:50:00 [error] 2865#0: *66647 user "«bob»": password mismatch, client: 203.0.113.95, server: example.com, request: "GET «/admin» HTTP/1.1", host: "«example.com»"',
    '2025/10/14 12:50:01 [error] 2865#0: *66648 no user/password was provided for basic authentication, client: 203.0.113.96, server: example.com, request: "GET «/admin» HTTP/1.1", host: "«example.com»"',
    '2025/10/14 12:50:02 [error] 2865#0: *66649 open() "/var/www/html/«wp-login.php»" failed (2: No such file or directory), client: 203.0.113.97, server: example.com, request: "GET /«wp-login.php» HTTP/1.1", host: "«example.com»"',
    '2025/10/14 12:50:03 [notice] 2865#0: signal process started',
  ],
};

/** A line template: the text outside the marks and the marked fields. */
function parseMarked(line) {
  const parts = line.split(/«|»/);
  const fixed = parts.filter((_, i) => i % 2 === 0);
  const fields = parts.filter((_, i) => i % 2 === 1);
  return { fixed, fields };
}

function insert(value, c, where) {
  const at = where === 'start' ? 0 : where === 'end' ? value.length : Math.floor(value.length / 2);
  return value.slice(0, at) + c + value.slice(at);
}

/** The line with the fields selected by pick(index) holding c at `where`. */
function render({ fixed, fields }, pick, c, where) {
  let out = fixed[0];
  fields.forEach((f, i) => { out += (pick(i) ? insert(f, c, where) : f) + fixed[i + 1]; });
  return out;
}

let ruleset;
function detect(lines, label = 'sample.log', time = { timeZone: 'UTC', year: 2025, refMs: Date.parse('2025-12-31T00:00:00Z') }) {
  const events = [];
  const detector = new Detector(ruleset, { event(ev) { events.push(ev); }, opened() {}, closed() {} });
  const src = detector.source({ label, format: 'auto', time });
  for (const l of lines) src.line(l);
  src.end();
  detector.flush();
  return events;
}

/** Events by line: "rule ip" sorted, so counts and attribution are compared at once. */
function byLine(events) {
  const m = new Map();
  for (const e of events) {
    if (!m.has(e.line)) m.set(e.line, []);
    m.get(e.line).push(`${e.rule} ${e.ip}`);
  }
  for (const v of m.values()) v.sort();
  return Object.fromEntries([...m].sort((a, b) => a[0] - b[0]));
}

const RAW = /[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200a\u200e\u200f\u2028-\u202f\u205f\u2066-\u2069\u3000\ufeff]/;

/** Same rules, addresses and counts per line; users escaped; nothing raw in any field. */
function assertSameEvents(plain, tainted, c, where, what) {
  assert.deepEqual(byLine(tainted), byLine(plain), `${what}: ${visibleLine(c)} at the ${where} changed the events`);
  const users = new Map(plain.map((e) => [`${e.line} ${e.rule}`, e.user]));
  for (const e of tainted) {
    for (const f of ['user', 'ip', 'host', 'program', 'text']) {
      assert.equal(e[f] === null ? null : RAW.exec(e[f]), null, `${what}: raw ${visibleLine(c)} in the event's ${f}`);
      if (e[f] !== null) assert.equal(escapeControls(e[f]), e[f], `${what}: the event's ${f} is not what outputs show`);
    }
    // The user is the plain one, or holds the character's escape where it was inserted.
    const p = users.get(`${e.line} ${e.rule}`);
    const esc = visibleLine(c);
    if (e.user !== p) assert.ok(e.user.includes(esc) && e.user.replaceAll(esc, '') === p, `${what}: user ${JSON.stringify(e.user)} for ${JSON.stringify(p)}`);
  }
}

before(() => {
  ruleset = rulesOf(loadConfig(path.join(ROOT, 'config', 'logward.yaml')));
});

describe('separators and controls in attacker-chosen fields of the fixtures', () => {
  test('the marked lines are exactly the lines of every fixture, and every fixture is marked', () => {
    const files = fs.readdirSync(FIXTURES).filter((n) => n.endsWith('.log')).sort();
    assert.deepEqual(Object.keys(MARKED).sort(), files);
    for (const name of files) {
      const lines = fs.readFileSync(path.join(FIXTURES, name), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      assert.deepEqual(MARKED[name].map((l) => l.replace(/[«»]/g, '')), lines, name);
    }
  });

  test('every builtin rule has sample lines with events and marked fields', () => {
    const fired = new Set();
    for (const ls of Object.values(MARKED)) {
      const evs = detect(ls.map((l) => l.replace(/[«»]/g, '')));
      for (const e of evs) if (ls[e.line - 1].includes('«')) fired.add(e.rule);
    }
    for (const r of ruleset.rules) assert.ok(fired.has(r.spec.name), `no marked sample line for ${r.spec.name}`);
    const marked = Object.values(MARKED).flat().filter((l) => l.includes('«')).length;
    assert.ok(marked >= 40, `${marked} marked lines`);
  });

  for (const [name, marked] of Object.entries(MARKED)) {
    test(`${name}: each character in each field, alone and all at once, gives the events of the plain lines`, () => {
      const tpls = marked.map(parseMarked);
      const plain = detect(tpls.map((t) => render(t, () => false)), name);
      assert.ok(plain.length > 0);
      const nFields = tpls.reduce((n, t) => n + t.fields.length, 0);
      for (const c of CHARS) {
        for (const where of WHERE) {
          // All at once: a name that appears twice (ruser and user) holds it in both.
          assertSameEvents(plain, detect(tpls.map((t) => render(t, () => true, c, where)), name), c, where, `${name}, every field`);
          // One field alone, the others plain.
          for (let k = 0; k < nFields; k++) {
            let seen = 0;
            const lines = tpls.map((t) => {
              const base = seen;
              seen += t.fields.length;
              return render(t, (i) => base + i === k, c, where);
            });
            assertSameEvents(plain, detect(lines, name), c, where, `${name}, field ${k}`);
          }
        }
      }
    });
  }
});

// Attacker-chosen fields of the corpus's lines, found by what surrounds them (the group).
const CORPUS_FIELDS = [
  // sshd and dropbear user names, and the client's disconnect message
  /\bfor (?:(?:invalid|illegal) user )?(?!nonexistent user |')(.+?) from /g,
  /\bInvalid user (.*?) from /g,
  /\bUser (\S+) from \S+ not allowed/g,
  /\buser '([^']*)'/g,
  /\bfor '([^']*)' from/g,
  // (up to a closing "Auth fail": that literal is what a rule looks for, not a field)
  /\bReceived disconnect from \S+ port \d+:\d+: (.+?)(?: ?Auth fail)?(?: \[preauth\])?$/g,
  // PAM
  /\bruser=(\S*) rhost=/g,
  /\buser=(\S+)\s*$/g,
  // access logs: remote user, request path, referer, user agent
  /^\S+ \S+ ((?!-)\S+) \[\d/g,
  /\] "[A-Z]+ (\S+) HTTP\/[\d.]+"/g,
  /" \d{3} \S+ "([^"]*)" "([^"]*)"/g,
  // nginx: user, request path, Host, referrer
  /\buser "([^"]*)"/g,
  /\brequest: "[A-Z]+ (\S+) HTTP/g,
  /, host: "([^"]*)"/g,
  /, referrer: "([^"]*)"/g,
  // apache and lighttpd: user, path, referer
  /\] (?:AH\d+: )?(?:Digest: )?user ([^\s:`']+)(?::| not found)/g,
  /Authorization of user (\S+) to access/g,
  /File does not exist: \/var\/www\/(\S+?)(?:,|$)/g,
  /File does not exist: \S*\/([^\s/,]+)/g,
  /script '\S*\/([^'/]+)'/g,
  /stderr from \S*\/([^\s/:]+):/g,
  /(?:configuration|scheme|not found|unable to stat): \S*\/([^\s/,']+)/g,
  /failure for "[^"]*\/([^"/]+)"/g,
  /to access \S*\/([^\s/]+) failed/g,
  /\buser `([^']*)' in realm/g,
  /(?:invalid nonce |realm mismatch - got `|unknown algorithm `|invalid qop `)([^\s']+)/g,
  /\b[Hh]ostname (?!was )(\S+) provided via (?:SNI|HTTP)/g,
  /, referer: (\S+)$/g,
  /username: ([^,\s]+),? IP/g,
  /auth failed for\s+(\S+) :/g,
];

// sshd-journal is left out: its lines carry no time (the corpus scores it with journal options).
const COVERED_FILES = ['sshd', 'dropbear', 'pam-generic', 'apache-auth', 'nginx-http-auth', 'lighttpd-auth', 'traefik-auth', 'haproxy-http-auth', 'nginx-forbidden', 'nginx-botsearch', 'apache-botsearch', 'apache-noscript'];

/** The spans [from, to) of attacker-chosen fields of a line, in order, not overlapping. */
function fieldSpans(line) {
  const spans = [];
  for (const re of CORPUS_FIELDS) {
    for (const m of line.matchAll(new RegExp(re.source, 'gd'))) {
      // A field the log shows empty stays empty: a service that leaves ruser empty pins
      // the address that way (pam.yaml), and an attacker cannot fill what it does not write.
      for (let g = 1; g < m.length; g++) if (m.indices[g] !== undefined && m[g] !== '') spans.push(m.indices[g]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  return spans.filter((s, i) => i === 0 || s[0] >= spans[i - 1][1]);
}

function taintLine(line, spans, c, where) {
  let out = '';
  let p = 0;
  for (const [a, b] of spans) {
    out += line.slice(p, a) + insert(line.slice(a, b), c, where);
    p = b;
  }
  return out + line.slice(p);
}

describe('separators and controls in attacker-chosen fields of the fail2ban corpus', () => {
  const ZONE = { timeZone: 'Europe/Zurich', year: null, refMs: Date.parse('2005-08-14T10:00:00Z') };
  let files;

  before(() => {
    files = COVERED_FILES.map((name) => {
      const lines = fs.readFileSync(path.join(CORPUS, 'logs', name), 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));
      return { name, lines, spans: lines.map((l) => (l.startsWith('#') ? [] : fieldSpans(l))) };
    });
  });

  test('finds attacker-chosen fields on the attack lines of every covered file', () => {
    for (const f of files) {
      const events = detect(f.lines, f.name, ZONE);
      const hitLines = new Set(events.map((e) => e.line));
      const withFields = [...hitLines].filter((n) => f.spans[n - 1].length > 0).length;
      assert.ok(hitLines.size > 0, `${f.name}: no events`);
      // haproxy's and lighttpd's get_password lines carry no field of the client but the path.
      assert.ok(withFields >= hitLines.size / 2 || f.name === 'haproxy-http-auth', `${f.name}: fields on ${withFields} of ${hitLines.size} lines with events`);
    }
  });

  test('each character in every field of every line gives the events of the plain lines', () => {
    for (const f of files) {
      const plain = detect(f.lines, f.name, ZONE);
      for (const c of CHARS) {
        for (const where of WHERE) {
          const tainted = detect(f.lines.map((l, i) => taintLine(l, f.spans[i], c, where)), f.name, ZONE);
          assertSameEvents(plain, tainted, c, where, f.name);
        }
      }
    }
  });
});
