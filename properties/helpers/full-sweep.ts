/**
 * The unreduced sweep, the reference for the one checkProgram runs: visit
 * every reachable state once, violations included (a violating state is
 * visited but not expanded), telling an observer of every transition taken
 * and a visitor of every violation met, with the schedule that reached it.
 * checkProgram sweeps the rest of the states after a violation with the
 * search's own reductions (exhaustive() with onViolation, for lockdep's
 * prediction); properties/check/lockdep.test.ts checks that it learns what
 * this one does, and that what is learnt does not depend on the order.
 *
 * Depth-first and in place, as exhaustive() is: each step writes the one
 * state vector through the write log, which undoes it for the next sibling,
 * and the fingerprint follows every write. The schedules it hands over are
 * the ones depth-first search found, not the shortest.
 */
import { Machine } from '../../model/kernel/machine.ts';
import { H_BOUND_HIT, H_VIOL_KIND } from '../../model/kernel/layout.ts';
import type { Program } from '../../model/kernel/program.ts';
import type { TransitionObserver } from '../../model/kernel/semantics.ts';
import { boundHit, boundMessage, endViolation, stepViolation, type Violation } from '../../model/explore/outcome.ts';
import { VisitedSet } from '../../model/explore/visited.ts';

export interface SweepResult {
  readonly states: number;
  readonly transitions: number;
  /** Why the sweep did not visit every state (the state cap, a loop bound), or null. */
  readonly boundedOut: string | null;
}

/**
 * Visit every state of `p` reachable within `maxStates`, telling
 * `observer` of each transition and `onViolation` of each violating state
 * (`m.s` is that state; do not keep it, it is stepped in place).
 */
export function sweep(
  p: Program, observer: TransitionObserver | null, maxStates: number,
  onViolation: (m: Machine, s: Int32Array, v: Violation) => void = () => {},
  /** Try each state's choices last to first (to show that what is learnt does not depend on the order). */
  reverse = false,
): SweepResult {
  const m = new Machine(p);
  m.observer = observer;
  const visited = new VisitedSet();
  m.load(m.initial());
  const s = m.s;
  visited.add(m.hLo, m.hHi);
  let states = 1;
  let transitions = 0;
  let boundedOut: string | null = null;
  // Per depth: the enabled choices, the next to try, and the log mark and fingerprint to undo to.
  const choices: number[][] = [];
  const next: number[] = [];
  const marks: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  const path: number[] = [];
  const ended = (): void => {
    const v = endViolation(m, s, path);
    m.s = s;
    if (v) onViolation(m, s, v);
  };
  const enabled = (): number[] => (reverse ? m.enabled(s).reverse() : m.enabled(s));
  const first = enabled();
  if (first.length === 0) ended();
  else {
    choices.push(first);
    next.push(0);
  }
  while (choices.length > 0) {
    const d = choices.length - 1;
    const list = choices[d]!;
    const i = next[d]!;
    if (i >= list.length) {
      choices.pop();
      next.pop();
      if (d > 0) {
        m.undoTo(marks.pop()!, lo.pop()!, hi.pop()!);
        path.pop();
      }
      continue;
    }
    next[d] = i + 1;
    const choice = list[i]!;
    const mark = m.logLen;
    const hLo = m.hLo;
    const hHi = m.hHi;
    m.stepInPlace(choice);
    transitions++;
    path.push(choice);
    let expand = false;
    if (s[H_VIOL_KIND] !== 0) {
      const v = stepViolation(m, s, path);
      m.s = s;
      if (v) onViolation(m, s, v);
    } else if (visited.add(m.hLo, m.hHi)) {
      states++;
      if (s[H_BOUND_HIT] !== 0) boundedOut ??= boundMessage(m, boundHit(s));
      else expand = true;
    }
    const en = expand ? enabled() : [];
    if (expand && en.length === 0) ended();
    if (en.length === 0) {
      m.undoTo(mark, hLo, hHi);
      path.pop();
      continue;
    }
    if (states >= maxStates) return { states, transitions, boundedOut: `the state limit (${maxStates} states) was reached` };
    choices.push(en);
    next.push(0);
    marks.push(mark);
    lo.push(hLo);
    hi.push(hHi);
  }
  return { states, transitions, boundedOut };
}
