// The one module that talks to recheck (npm, dev only): a second opinion on the regex
// check, by other means (an automaton check and a fuzzer). Its native binary runs where one
// ships for the platform; elsewhere set RECHECK_BACKEND=pure for the Scala.js build.

import { check } from 'recheck';

/** recheck's verdict on one pattern; the same seed gives the same fuzzing run. */
export async function recheck(source, flags) {
  const r = await check(source, flags, { randomSeed: 16, timeout: 10_000 });
  return { status: r.status, attack: r.attack ?? null, checker: r.checker, error: r.error ?? null };
}

/** recheck's attack as one line: the pump repeated up to maxBytes, then the suffix. */
export function attackLine(attack, maxBytes) {
  const pumps = attack.pumps ?? [];
  if (pumps.length === 0) return attack.string;
  const suffix = attack.suffix ?? '';
  let head = '';
  let line = '';
  for (const p of pumps) head += p.prefix;
  const unit = pumps.map((p) => p.pump).join('');
  const room = maxBytes - head.length - suffix.length;
  // Each pump sits after its prefix; repeating all of them in turn keeps their order.
  line = pumps.map((p) => p.prefix + p.pump.repeat(Math.max(1, Math.floor(room / unit.length)))).join('') + suffix;
  return line.slice(0, maxBytes);
}
