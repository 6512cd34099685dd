import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  daysFromCivil, daysInMonth, civilToMs, zonedToUtc, offsetAt, parseOffset, inferYear, isoUtc, wallTime, yearOf, checkTimeZone,
} from '../../dist/core/time.js';
import { PARSERS, ParseContext } from '../../dist/core/parse/index.js';
import { prng } from '../helpers/prng.mjs';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const utc = (s) => Date.parse(s);


describe('calendar arithmetic', () => {
  test('daysFromCivil agrees with Date.UTC for every day from 1899 to 2101', () => {
    let expected = Date.UTC(1899, 0, 1) / DAY;
    for (let y = 1899; y <= 2101; y++) {
      for (let m = 1; m <= 12; m++) {
        for (let d = 1; d <= daysInMonth(y, m); d++) {
          assert.equal(daysFromCivil(y, m, d), expected, `${y}-${m}-${d}`);
          expected++;
        }
      }
    }
    assert.equal(expected, Date.UTC(2102, 0, 1) / DAY);
  });

  test('daysFromCivil agrees with Date.UTC for random dates far from the epoch', () => {
    const rnd = prng(42);
    for (let i = 0; i < 5000; i++) {
      const y = Math.floor(rnd() * 8000) - 2000;
      const m = 1 + Math.floor(rnd() * 12);
      const d = 1 + Math.floor(rnd() * daysInMonth(y, m));
      const want = new Date(0);
      want.setUTCFullYear(y, m - 1, d);
      want.setUTCHours(0, 0, 0, 0);
      assert.equal(daysFromCivil(y, m, d) * DAY, want.getTime(), `${y}-${m}-${d}`);
    }
  });

  test('daysInMonth knows the Gregorian leap years', () => {
    assert.equal(daysInMonth(2024, 2), 29);
    assert.equal(daysInMonth(2025, 2), 28);
    assert.equal(daysInMonth(1900, 2), 28);
    assert.equal(daysInMonth(2000, 2), 29);
    assert.equal(daysInMonth(2025, 4), 30);
    assert.equal(daysInMonth(2025, 12), 31);
  });

  test('civilToMs agrees with Date.UTC for random valid fields', () => {
    const rnd = prng(7);
    for (let i = 0; i < 5000; i++) {
      const y = 1970 + Math.floor(rnd() * 100);
      const mo = 1 + Math.floor(rnd() * 12);
      const d = 1 + Math.floor(rnd() * daysInMonth(y, mo));
      const h = Math.floor(rnd() * 24);
      const mi = Math.floor(rnd() * 60);
      const s = Math.floor(rnd() * 60);
      const ms = Math.floor(rnd() * 1000);
      assert.equal(civilToMs(y, mo, d, h, mi, s, ms), Date.UTC(y, mo - 1, d, h, mi, s, ms));
    }
  });

  test('civilToMs returns NaN for out-of-range fields', () => {
    for (const f of [[2025, 2, 29, 0, 0, 0], [2025, 2, 30, 0, 0, 0], [2025, 4, 31, 0, 0, 0], [2025, 13, 1, 0, 0, 0], [2025, 0, 1, 0, 0, 0],
      [2025, 1, 0, 0, 0, 0], [2025, 1, 1, 24, 0, 0], [2025, 1, 1, 25, 0, 0], [2025, 1, 1, 0, 60, 0], [2025, 1, 1, 0, 0, 61], [2025, 1, 1, -1, 0, 0]]) {
      assert.ok(Number.isNaN(civilToMs(...f)), f.join(','));
    }
    assert.equal(civilToMs(2024, 2, 29, 0, 0, 0), Date.UTC(2024, 1, 29));
  });

  test('civilToMs reads a leap second 60 as second 59', () => {
    assert.equal(civilToMs(2016, 12, 31, 23, 59, 60), Date.UTC(2016, 11, 31, 23, 59, 59));
  });
});

describe('zones', () => {
  test('offsetAt gives winter and summer offsets of Berlin and New York', () => {
    assert.equal(offsetAt(utc('2025-01-15T12:00:00Z'), 'Europe/Berlin'), HOUR);
    assert.equal(offsetAt(utc('2025-07-15T12:00:00Z'), 'Europe/Berlin'), 2 * HOUR);
    assert.equal(offsetAt(utc('2025-01-15T12:00:00Z'), 'America/New_York'), -5 * HOUR);
    assert.equal(offsetAt(utc('2025-07-15T12:00:00Z'), 'America/New_York'), -4 * HOUR);
    assert.equal(offsetAt(utc('2025-07-15T12:00:00Z'), 'UTC'), 0);
    assert.equal(offsetAt(utc('2025-07-15T12:00:00Z'), 'Asia/Kolkata'), 5.5 * HOUR);
  });

  test('zonedToUtc converts ordinary Berlin wall times in winter and summer', () => {
    assert.equal(zonedToUtc(civilToMs(2025, 1, 15, 12, 0, 0), 'Europe/Berlin'), utc('2025-01-15T11:00:00Z'));
    assert.equal(zonedToUtc(civilToMs(2025, 7, 15, 12, 0, 0), 'Europe/Berlin'), utc('2025-07-15T10:00:00Z'));
  });

  test('zonedToUtc round-trips every quarter hour around Berlin\'s DST changes outside the gap and the repeated hour', () => {
    for (const [y, mo, d] of [[2025, 3, 30], [2025, 10, 26]]) {
      for (let q = 0; q < 24 * 4; q++) {
        const h = Math.floor(q / 4);
        const mi = (q % 4) * 15;
        if (h === 2) continue; // the gap (March) and the repeated hour (October)
        const wall = civilToMs(y, mo, d, h, mi, 0);
        const t = zonedToUtc(wall, 'Europe/Berlin');
        assert.equal(t + offsetAt(t, 'Europe/Berlin'), wall, `${y}-${mo}-${d} ${h}:${mi}`);
      }
    }
  });

  test('zonedToUtc reads a Berlin wall time in the spring gap with the later (summer) offset', () => {
    // 02:30 does not exist on 2025-03-30 in Berlin; read with +02:00.
    assert.equal(zonedToUtc(civilToMs(2025, 3, 30, 2, 30, 0), 'Europe/Berlin'), utc('2025-03-30T00:30:00Z'));
    assert.equal(zonedToUtc(civilToMs(2025, 3, 30, 1, 59, 0), 'Europe/Berlin'), utc('2025-03-30T00:59:00Z'));
    assert.equal(zonedToUtc(civilToMs(2025, 3, 30, 3, 0, 0), 'Europe/Berlin'), utc('2025-03-30T01:00:00Z'));
  });

  test('zonedToUtc reads a Berlin wall time in the repeated autumn hour as the earlier (summer) reading', () => {
    // 02:30 happens twice on 2025-10-26: 00:30Z (CEST) and 01:30Z (CET). The summer reading wins.
    assert.equal(zonedToUtc(civilToMs(2025, 10, 26, 2, 30, 0), 'Europe/Berlin'), utc('2025-10-26T00:30:00Z'));
  });

  test('zonedToUtc handles New York\'s gap with the later offset and its repeated hour with the summer reading', () => {
    assert.equal(zonedToUtc(civilToMs(2025, 3, 9, 2, 30, 0), 'America/New_York'), utc('2025-03-09T06:30:00Z'));
    assert.equal(zonedToUtc(civilToMs(2025, 11, 2, 1, 30, 0), 'America/New_York'), utc('2025-11-02T05:30:00Z'));
    assert.equal(zonedToUtc(civilToMs(2025, 11, 2, 0, 30, 0), 'America/New_York'), utc('2025-11-02T04:30:00Z'));
    assert.equal(zonedToUtc(civilToMs(2025, 11, 2, 2, 30, 0), 'America/New_York'), utc('2025-11-02T07:30:00Z'));
  });

  test('zonedToUtc passes UTC and NaN through unchanged', () => {
    const wall = civilToMs(2025, 6, 1, 12, 0, 0);
    assert.equal(zonedToUtc(wall, 'UTC'), wall);
    assert.equal(zonedToUtc(wall, 'Etc/UTC'), wall);
    assert.ok(Number.isNaN(zonedToUtc(NaN, 'Europe/Berlin')));
  });

  test('checkTimeZone throws a RangeError for an unknown zone', () => {
    assert.throws(() => checkTimeZone('Mars/Olympus_Mons'), RangeError);
    assert.doesNotThrow(() => checkTimeZone('Europe/Zurich'));
  });
});

describe('parseOffset', () => {
  test('reads Z, colon, compact and hour-only offsets', () => {
    assert.equal(parseOffset('Z'), 0);
    assert.equal(parseOffset('z'), 0);
    assert.equal(parseOffset('+01:00'), HOUR);
    assert.equal(parseOffset('+0100'), HOUR);
    assert.equal(parseOffset('-05'), -5 * HOUR);
    assert.equal(parseOffset('+05:30'), 5.5 * HOUR);
    assert.equal(parseOffset('-0930'), -9.5 * HOUR);
    assert.equal(parseOffset('+00:00'), 0);
  });

  test('returns NaN for malformed offsets', () => {
    for (const s of ['', '01:00', '+1', '+1:00', '+01:0', '+01:000', 'UTC', '+ab:cd', ' +01:00', '+01:00 ']) {
      assert.ok(Number.isNaN(parseOffset(s)), JSON.stringify(s));
    }
  });
});

describe('year inference', () => {
  const jan = utc('2025-01-05T10:00:00Z');

  test('puts a December stamp read in January into the previous year', () => {
    assert.equal(inferYear(12, 31, 23, 59, 0, 2025, jan, 'UTC'), 2024);
    assert.equal(inferYear(1, 5, 9, 0, 0, 2025, jan, 'UTC'), 2025);
  });

  test('allows one day of slack after the reference instant', () => {
    assert.equal(inferYear(1, 6, 9, 0, 0, 2025, jan, 'UTC'), 2025);
    assert.equal(inferYear(1, 6, 10, 0, 1, 2025, jan, 'UTC'), 2024);
  });

  test('yearless syslog: a December line with a January reference lands in the previous year', () => {
    const ctx = new ParseContext({ timeZone: 'UTC', year: null, refMs: jan });
    const r = PARSERS.syslog('Dec 31 23:59:58 host sshd[1]: Failed password for root', ctx);
    assert.equal(r.time, utc('2024-12-31T23:59:58Z'));
    const r2 = PARSERS.syslog('Jan  4 08:00:00 host sshd[1]: Failed password for root', ctx);
    assert.equal(r2.time, utc('2025-01-04T08:00:00Z'));
  });

  test('yearless syslog uses the reference year in the source\'s zone', () => {
    // 2024-12-31T23:30Z is already 2025-01-01 in Berlin.
    const ctx = new ParseContext({ timeZone: 'Europe/Berlin', year: null, refMs: utc('2024-12-31T23:30:00Z') });
    assert.equal(ctx.refYear, 2025);
    const r = PARSERS.syslog('Jan  1 00:10:00 host sshd[1]: x', ctx);
    assert.equal(r.time, utc('2024-12-31T23:10:00Z'));
  });

  test('a fixed year overrides inference', () => {
    const ctx = new ParseContext({ timeZone: 'UTC', year: 2019, refMs: jan });
    assert.equal(PARSERS.syslog('Dec 31 23:59:58 host sshd[1]: x', ctx).time, utc('2019-12-31T23:59:58Z'));
  });

  test('yearless Feb 29 read with a January reference after a leap year lands in the leap year', () => {
    const ctx = new ParseContext({ timeZone: 'UTC', year: null, refMs: jan });
    const r = PARSERS.syslog('Feb 29 10:00:00 host sshd[1]: x', ctx);
    assert.notEqual(r, null);
    assert.equal(r.time, utc('2024-02-29T10:00:00Z'));
  });

  test('yearOf gives the UTC year', () => {
    assert.equal(yearOf(utc('2024-12-31T23:59:59Z')), 2024);
    assert.equal(yearOf(utc('2025-01-01T00:00:00Z')), 2025);
  });
});

describe('formatting', () => {
  test('wallTime prints the wall clock of the zone without offset', () => {
    assert.equal(wallTime(utc('2025-10-14T10:01:10Z'), 'Europe/Berlin'), '2025-10-14T12:01:10');
    assert.equal(wallTime(utc('2025-01-14T10:01:10Z'), 'Europe/Berlin'), '2025-01-14T11:01:10');
    assert.equal(wallTime(utc('2025-01-14T03:00:00Z'), 'America/New_York'), '2025-01-13T22:00:00');
    assert.equal(wallTime(utc('2025-01-14T03:00:00.999Z'), 'UTC'), '2025-01-14T03:00:00');
  });

  test('isoUtc prints seconds without milliseconds when there are none', () => {
    assert.equal(isoUtc(utc('2025-10-14T12:01:10Z')), '2025-10-14T12:01:10Z');
    assert.equal(isoUtc(utc('2025-10-14T12:01:10Z')), '2025-10-14T12:01:10Z', 'the memoised second');
    assert.equal(isoUtc(utc('2025-10-14T12:01:11Z')), '2025-10-14T12:01:11Z');
    assert.equal(isoUtc(0), '1970-01-01T00:00:00Z');
  });

  test('isoUtc prints milliseconds when present, also right after the same second without them', () => {
    assert.equal(isoUtc(utc('2025-10-14T12:01:10Z')), '2025-10-14T12:01:10Z');
    assert.equal(isoUtc(utc('2025-10-14T12:01:10.250Z')), '2025-10-14T12:01:10.250Z');
    assert.equal(isoUtc(utc('2025-10-14T12:01:10.001Z')), '2025-10-14T12:01:10.001Z');
    assert.equal(isoUtc(utc('2025-10-14T12:01:10Z')), '2025-10-14T12:01:10Z');
  });
});
