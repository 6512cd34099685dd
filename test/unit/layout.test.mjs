// The shape of src/ that docs/architecture.md describes, checked on every test run: which
// folder may import which (type-only imports count: a reader follows them too), no cycle
// between folders, a pure core, one clock, one exit, and no file over 400 lines. A wrong
// arrow fails with the importing file, its line and the import.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cli.mjs';

const SRC = path.join(ROOT, 'src');

// commands -> runtime -> digest -> {sources, sinks, delivery, enrich, http} -> config -> core -> util
const BELOW_PEERS = ['config', 'core', 'util'];
const PEERS = ['sources', 'sinks', 'delivery', 'enrich', 'http'];
const ALLOWED = {
  util: [],
  core: ['util'],
  config: ['core', 'util'],
  sources: BELOW_PEERS,
  sinks: BELOW_PEERS,
  enrich: BELOW_PEERS,
  delivery: BELOW_PEERS,
  http: BELOW_PEERS,
  digest: ['sinks', 'delivery', ...BELOW_PEERS],
  runtime: ['digest', ...PEERS, ...BELOW_PEERS],
  commands: ['runtime', 'digest', ...PEERS, ...BELOW_PEERS],
  '.': ['commands', 'config', 'util'],
};

function sourceFiles(dir = SRC) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/** Every import of a file: static, type-only, re-exports and dynamic, with its line. */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  const re = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'|import\(\s*'([^']+)'\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2];
    const line = text.slice(0, m.index + m[0].indexOf(spec)).split('\n').length;
    out.push({ spec, line, text: text.split('\n')[line - 1].trim() });
  }
  return out;
}

function folderOf(file) {
  const rel = path.relative(SRC, file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0] : '.';
}

const files = sourceFiles();
const edges = [];
for (const file of files) {
  for (const imp of importsOf(file)) {
    if (!imp.spec.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), imp.spec).replace(/\.js$/, '.ts');
    edges.push({ file, from: folderOf(file), to: folderOf(target), target, ...imp });
  }
}

describe('the layout of src/', () => {
  test('sees the imports it checks (the parser is not blind)', () => {
    assert.ok(files.length > 50, `${files.length} files`);
    assert.ok(edges.length > 200, `${edges.length} imports`);
    assert.ok(edges.some((e) => e.text.startsWith('import type')), 'type-only imports are read');
  });

  test('every folder imports only the folders below it', () => {
    const wrong = edges
      .filter((e) => e.from !== e.to && !(ALLOWED[e.from] ?? []).includes(e.to))
      .map((e) => `${path.relative(ROOT, e.file)}:${e.line}: ${e.from} -> ${e.to}: ${e.text}`);
    assert.deepEqual(wrong, []);
  });

  test('every folder of src/ has a place in the layering', () => {
    const folders = new Set(files.map(folderOf));
    assert.deepEqual([...folders].filter((f) => !(f in ALLOWED)), []);
  });

  test('has no import cycle between folders', () => {
    const graph = new Map();
    for (const e of edges) if (e.from !== e.to) (graph.get(e.from) ?? graph.set(e.from, new Set()).get(e.from)).add(e.to);
    const cycles = [];
    const visit = (n, trail) => {
      if (trail.includes(n)) {
        cycles.push([...trail.slice(trail.indexOf(n)), n].join(' -> '));
        return;
      }
      for (const m of graph.get(n) ?? []) visit(m, [...trail, n]);
    };
    for (const n of graph.keys()) visit(n, []);
    assert.deepEqual(cycles, []);
  });

  test('keeps core pure: no Node module, no timer, no wall clock', () => {
    const bad = [];
    for (const file of files.filter((f) => folderOf(f) === 'core')) {
      for (const imp of importsOf(file)) if (!imp.spec.startsWith('.')) bad.push(`${path.relative(ROOT, file)}:${imp.line}: ${imp.text}`);
      const text = fs.readFileSync(file, 'utf8');
      for (const word of ['setTimeout(', 'setInterval(', 'setImmediate(', 'new Date()', 'process.']) if (text.includes(word)) bad.push(`${path.relative(ROOT, file)}: ${word}`);
    }
    assert.deepEqual(bad, []);
  });

  test('reads the wall clock only in util/clock.ts and exits only in cli.ts', () => {
    const bad = [];
    for (const file of files) {
      const rel = path.relative(SRC, file);
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((l, i) => {
        const code = l.replace(/\/\/.*$/, '');
        if (rel !== path.join('util', 'clock.ts') && /Date\.now\(\)/.test(code)) bad.push(`${rel}:${i + 1}: ${l.trim()}`);
        if (rel !== 'cli.ts' && /process\.exit\(/.test(code)) bad.push(`${rel}:${i + 1}: ${l.trim()}`);
      });
    }
    assert.deepEqual(bad, []);
  });

  test('wraps each third-party package behind one module', () => {
    const owners = new Map();
    for (const file of files) {
      for (const imp of importsOf(file)) {
        if (imp.spec.startsWith('.') || imp.spec.startsWith('node:')) continue;
        const pkg = imp.spec.startsWith('@') ? imp.spec.split('/').slice(0, 2).join('/') : imp.spec.split('/')[0];
        (owners.get(pkg) ?? owners.set(pkg, new Set()).get(pkg)).add(path.relative(SRC, file));
      }
    }
    const shared = [...owners].filter(([, by]) => by.size > 1).map(([pkg, by]) => `${pkg}: ${[...by].join(', ')}`);
    assert.deepEqual(shared, []);
  });

  test('keeps every source file under 400 lines, each opening with what it owns', () => {
    const long = [];
    const bare = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const n = text.split('\n').length - 1;
      if (n > 400) long.push(`${path.relative(ROOT, file)}: ${n} lines`);
      const first = text.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#!'));
      if (!first.startsWith('//')) bare.push(path.relative(ROOT, file));
    }
    assert.deepEqual(long, []);
    assert.deepEqual(bare, []);
  });
});
