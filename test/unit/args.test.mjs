import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, looksLikeRuleName, intOption, usage } from '../../dist/commands/args.js';
import { AppError } from '../../dist/util/errors.js';

const FORMATS = new Set(['json', 'csv']);
const SPECS = [
  { name: 'format', kind: 'multi', accepts: (w) => FORMATS.has(w) },
  { name: 'rules', kind: 'multi', accepts: looksLikeRuleName },
  { name: 'tags', kind: 'multi' },
  { name: 'source', kind: 'list' },
  { name: 'out', kind: 'string' },
  { name: 'verbose', kind: 'boolean' },
];
const parse = (argv) => parseArgs(argv, SPECS, 'scan');

/** Asserts that fn throws a USAGE AppError (exit 64) whose message matches re. */
function throwsUsage(fn, re) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof AppError, 'an AppError');
    assert.equal(err.code, 'USAGE');
    assert.equal(err.exitCode, 64);
    assert.match(err.message, re);
    assert.match(err.message, /logward scan --help/);
    return true;
  });
}

describe('multi-value options', () => {
  test('--format json csv takes both words', () => {
    const r = parse(['--format', 'json', 'csv']);
    assert.deepEqual(r.values.format, ['json', 'csv']);
    assert.deepEqual(r.positionals, []);
  });

  test('--format=json takes exactly the inline value and leaves the next word positional', () => {
    const r = parse(['--format=json', 'csv']);
    assert.deepEqual(r.values.format, ['json']);
    assert.deepEqual(r.positionals, ['csv']);
  });

  test('splits comma-separated values, inline or not, and drops empty pieces', () => {
    assert.deepEqual(parse(['--format=json,csv']).values.format, ['json', 'csv']);
    assert.deepEqual(parse(['--format', 'json,,csv', 'json']).values.format, ['json', 'csv', 'json']);
  });

  test('stops taking values at a word the option does not accept', () => {
    const r = parse(['--format', 'json', 'auth.log', 'csv']);
    assert.deepEqual(r.values.format, ['json']);
    assert.deepEqual(r.positionals, ['auth.log', 'csv']);
  });

  test('--rules a b file.log leaves file.log positional', () => {
    const r = parse(['--rules', 'failed_logins', 'errors', 'file.log']);
    assert.deepEqual(r.values.rules, ['failed_logins', 'errors']);
    assert.deepEqual(r.positionals, ['file.log']);
  });

  test('the first value is always taken, even one the option would not accept after it', () => {
    const r = parse(['--rules', 'odd.name', 'x.log']);
    assert.deepEqual(r.values.rules, ['odd.name']);
    assert.deepEqual(r.positionals, ['x.log']);
  });

  test('stops taking values at the next option', () => {
    const r = parse(['--tags', 'a', 'b', '--verbose', 'c']);
    assert.deepEqual(r.values.tags, ['a', 'b']);
    assert.equal(r.values.verbose, true);
    assert.deepEqual(r.positionals, ['c']);
  });

  test('stops at "-" so stdin stays a positional', () => {
    const r = parse(['--tags', 'a', '-']);
    assert.deepEqual(r.values.tags, ['a']);
    assert.deepEqual(r.positionals, ['-']);
  });

  test('accumulates when a multi option is repeated', () => {
    assert.deepEqual(parse(['--format', 'json', '--format=csv']).values.format, ['json', 'csv']);
  });
});

describe('other kinds', () => {
  test('list options repeat, one value each', () => {
    const r = parse(['--source', 'a.log', '--source=b.log', 'c.log', '--source', 'd e.log']);
    assert.deepEqual(r.values.source, ['a.log', 'b.log', 'd e.log']);
    assert.deepEqual(r.positionals, ['c.log']);
  });

  test('string options take one value, the last one wins, and may be empty inline', () => {
    assert.equal(parse(['--out', 'dir1', '--out=dir2']).values.out, 'dir2');
    assert.equal(parse(['--out=']).values.out, '');
    assert.equal(parse(['--out=a=b']).values.out, 'a=b');
  });

  test('a string option may take a value starting with a single dash', () => {
    assert.equal(parse(['--out', '-']).values.out, '-');
  });

  test('boolean options are true when given and absent otherwise', () => {
    assert.equal(parse(['--verbose']).values.verbose, true);
    assert.equal(parse([]).values.verbose, undefined);
  });
});

describe('errors and the end of options', () => {
  test('an unknown long option throws a USAGE AppError with exit code 64', () => {
    throwsUsage(() => parse(['--nope']), /unknown option --nope/);
    throwsUsage(() => parse(['--nope=1']), /unknown option --nope/);
  });

  test('an unknown short option throws a USAGE AppError', () => {
    throwsUsage(() => parse(['-x']), /unknown option -x/);
  });

  test('a missing value throws', () => {
    throwsUsage(() => parse(['--out']), /--out needs a value/);
    throwsUsage(() => parse(['--out', '--verbose']), /--out needs a value/);
    throwsUsage(() => parse(['--format']), /--format needs a value/);
    throwsUsage(() => parse(['--source']), /--source needs a value/);
  });

  test('a value given to a boolean throws', () => {
    throwsUsage(() => parse(['--verbose=yes']), /takes no value/);
  });

  test('-- ends options: everything after it is positional', () => {
    const r = parse(['--verbose', 'a.log', '--', '--format', '-x', 'b.log']);
    assert.equal(r.values.verbose, true);
    assert.equal(r.values.format, undefined);
    assert.deepEqual(r.positionals, ['a.log', '--format', '-x', 'b.log']);
  });

  test('usage builds an AppError naming the command', () => {
    const e = usage('bad thing', 'run');
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'USAGE');
    assert.equal(e.exitCode, 64);
    assert.equal(e.message, 'bad thing; see `logward run --help`');
  });
});

describe('looksLikeRuleName and intOption', () => {
  test('looksLikeRuleName accepts lower-case snake words and refuses dots, slashes, capitals and leading digits', () => {
    assert.equal(looksLikeRuleName('failed_logins'), true);
    assert.equal(looksLikeRuleName('ssh2'), true);
    for (const w of ['auth.log', 'a.b', 'var/log', 'Failed', '2fa', '_x', '', 'x-y']) assert.equal(looksLikeRuleName(w), false, w);
  });

  test('looksLikeRuleName refuses a word that names an existing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-args-'));
    const cwd = process.cwd();
    try {
      fs.writeFileSync(path.join(dir, 'syslog'), '');
      process.chdir(dir);
      assert.equal(looksLikeRuleName('syslog'), false);
      assert.equal(looksLikeRuleName('other_rule'), true);
      const r = parse(['--rules', 'a_rule', 'syslog']);
      assert.deepEqual(r.values.rules, ['a_rule']);
      assert.deepEqual(r.positionals, ['syslog']);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('intOption accepts whole numbers in range and rejects everything else with USAGE', () => {
    assert.equal(intOption(undefined, 'n', 'scan', 1, 10), undefined);
    assert.equal(intOption('7', 'n', 'scan', 1, 10), 7);
    assert.equal(intOption('10', 'n', 'scan', 1, 10), 10);
    for (const v of ['0', '11', '-1', '1.5', '1e2', ' 5', '', 'x', true, 5]) {
      throwsUsage(() => intOption(v, 'n', 'scan', 1, 10), /--n must be a whole number from 1 to 10/);
    }
  });
});
