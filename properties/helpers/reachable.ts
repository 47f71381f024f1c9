/**
 * Walk every state a (small) design can reach, for invariants that must hold
 * in all of them or across every transition: a plain DFS over
 * `Machine.enabled`/`step` with exact state keys (no fingerprints), so a test
 * cannot be fooled by a hash collision.
 */
import { compile, Machine, type Design, type Program } from '../../model/index.ts';

/** More states than this means the test design is too big for an exact walk. */
export const MAX_WALK_STATES = 200_000;

export interface Walk {
  readonly p: Program;
  readonly states: number;
  readonly transitions: number;
}

export interface Visitor {
  /** Every reachable state once (violating states included, not expanded). */
  readonly state?: (m: Machine, s: Int32Array) => void;
  /** Every transition; `m.s` is `after` and `m.message` the step's violation message. */
  readonly step?: (m: Machine, before: Int32Array, choice: number, after: Int32Array) => void;
}

export function walkReachable(design: Design, visitor: Visitor): Walk {
  const p = compile(design);
  const m = new Machine(p);
  const seen = new Set<string>();
  const key = (s: Int32Array) => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('latin1');
  const stack = [m.initial()];
  seen.add(key(stack[0]!));
  let transitions = 0;
  while (stack.length > 0) {
    const s = stack.pop()!;
    m.s = s;
    visitor.state?.(m, s);
    for (const c of m.enabled(s)) {
      const t = m.step(s, c);
      transitions++;
      visitor.step?.(m, s, c, t);
      const k = key(t);
      if (seen.has(k)) continue;
      if (seen.size >= MAX_WALK_STATES) throw new Error(`design ${design.name} has more than ${MAX_WALK_STATES} states`);
      seen.add(k);
      stack.push(t);
    }
  }
  return { p, states: seen.size, transitions };
}

/** Call `visit` on every reachable state of `design`. */
export function forEachReachable(design: Design, visit: (m: Machine, s: Int32Array) => void): Walk {
  return walkReachable(design, { state: visit });
}

/**
 * Whether some schedule of `design` takes, in this order (not necessarily
 * adjacent), steps whose labels contain each of `steps`: a DFS over
 * (state, steps matched so far), with exact state keys.
 */
export function reachesInOrder(design: Design, steps: readonly string[]): boolean {
  const m = new Machine(compile(design));
  const seen = new Set<string>();
  const key = (s: Int32Array, k: number) => `${k}|${Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('latin1')}`;
  const stack: { s: Int32Array; k: number }[] = [{ s: m.initial(), k: 0 }];
  while (stack.length > 0) {
    const { s, k } = stack.pop()!;
    if (k === steps.length) return true;
    const id = key(s, k);
    if (seen.has(id)) continue;
    seen.add(id);
    for (const c of m.enabled(s)) {
      const label = m.label(s, c);
      stack.push({ s: m.step(s, c), k: label.includes(steps[k]!) ? k + 1 : k });
    }
  }
  return false;
}
