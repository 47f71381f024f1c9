/**
 * Walk every state a (small) design can reach, for invariants that must hold
 * in all of them: a plain DFS over `Machine.enabled`/`step` with exact state
 * keys (no fingerprints), so a test cannot be fooled by a hash collision.
 */
import { compile, Machine, type Design, type Program } from '../../model/index.ts';

/** More states than this means the test design is too big for an exact walk. */
export const MAX_WALK_STATES = 200_000;

export interface Walk {
  readonly p: Program;
  readonly states: number;
}

/** Call `visit` on every reachable state of `design` (violating states included, not expanded). */
export function forEachReachable(design: Design, visit: (m: Machine, s: Int32Array) => void): Walk {
  const p = compile(design);
  const m = new Machine(p);
  const seen = new Set<string>();
  const key = (s: Int32Array) => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('latin1');
  const stack = [m.initial()];
  seen.add(key(stack[0]!));
  while (stack.length > 0) {
    const s = stack.pop()!;
    m.s = s;
    visit(m, s);
    for (const c of m.enabled(s)) {
      const t = m.step(s, c);
      const k = key(t);
      if (seen.has(k)) continue;
      if (seen.size >= MAX_WALK_STATES) throw new Error(`design ${design.name} has more than ${MAX_WALK_STATES} states`);
      seen.add(k);
      stack.push(t);
    }
  }
  return { p, states: seen.size };
}
