/**
 * Exhaustive search: depth-first over the state graph, with a visited set
 * of 64-bit fingerprints. Proves the absence of violations within the
 * design's bounds, or returns the first violating schedule found.
 */
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import type { ViolationKind } from '../check/violation.ts';
import { H_VIOL_KIND } from '../kernel/layout.ts';
import { compareSchedules } from './minimize.ts';
import { boundHit, boundMessage, endViolation, stepViolation, type SearchResult, type Violation } from './outcome.ts';
import { fingerprint, VisitedSet } from './visited.ts';

/** Default cap on distinct states; past it the verdict is bounded-out, never verified. */
export const DEFAULT_MAX_STATES = 5_000_000;

export interface ExhaustiveOptions {
  readonly maxStates?: number;
  /** Called with each new state (e.g. a ParallelismMeter). */
  readonly observe?: (m: Machine, s: Int32Array) => void;
}

export function exhaustive(p: Program, opts: ExhaustiveOptions = {}): SearchResult {
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const started = performance.now();
  const m = new Machine(p);
  const visited = new VisitedSet();
  const stats = { states: 0, transitions: 0, ms: 0, maxDepth: 0 };
  const finish = (status: SearchResult['status'], violation: Violation | null, boundedOut: string | null): SearchResult => {
    stats.ms = Math.round(performance.now() - started);
    return { status, violation, boundedOut, stats };
  };

  // The search steps one state vector in place and undoes through the write
  // log (Machine.w/undoTo); the fingerprint follows every write.
  m.load(m.initial());
  const s = m.s;
  visited.add(m.hLo, m.hHi);
  stats.states = 1;
  const observe = opts.observe;
  observe?.(m, s);

  const enabled: number[] = [];
  m.enabledInto(enabled);
  if (enabled.length === 0) {
    const v = endViolation(m, s, []);
    return finish(v ? 'violation' : 'verified', v, null);
  }

  // The DFS stack, one frame per depth d: the choices enabled in the frame's
  // state are choices[start[d] .. end[d]), next[d] is the next to try; the
  // frame was entered by choice via[d], from log position mark[d], with the
  // parent's fingerprint (pLo[d], pHi[d]).
  const stack = new DfsStack();
  stack.push(enabled, -1, 0, 0, 0);
  let firstBound: string | null = null;
  const pathTo = (last: number): number[] => [...stack.path(), last];

  while (stack.depth > 0) {
    const d = stack.depth - 1;
    const i = stack.next[d]!;
    if (i >= stack.end[d]!) {
      const mark = stack.mark[d]!;
      const pLo = stack.pLo[d]!;
      const pHi = stack.pHi[d]!;
      stack.pop();
      if (stack.depth > 0) m.undoTo(mark, pLo, pHi);
      continue;
    }
    stack.next[d] = i + 1;
    const choice = stack.choices[i]!;
    const mark = m.logLen;
    const hLo = m.hLo;
    const hHi = m.hHi;
    m.stepInPlace(choice);
    stats.transitions++;
    if (s[H_VIOL_KIND] !== 0) return finish('violation', stepViolation(m, s, pathTo(choice)), null);
    if (!visited.add(m.hLo, m.hHi)) {
      m.undoTo(mark, hLo, hHi);
      continue;
    }
    stats.states++;
    observe?.(m, s);
    const loop = boundHit(s);
    if (loop >= 0) {
      firstBound ??= boundMessage(m, loop);
      m.undoTo(mark, hLo, hHi);
      continue;
    }
    m.enabledInto(enabled);
    if (enabled.length === 0) {
      const end = endViolation(m, s, pathTo(choice));
      if (end) return finish('violation', end, null);
      m.undoTo(mark, hLo, hHi);
      continue;
    }
    if (stats.states >= maxStates) {
      return finish('bounded-out', null, `state limit reached: more than ${maxStates} distinct states (raise the state limit: maxStates, or --max-states on the command line; or shrink the bounds)`);
    }
    stack.push(enabled, choice, mark, hLo, hHi);
    if (stack.depth > stats.maxDepth) stats.maxDepth = stack.depth;
  }
  return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
}

/** The DFS stack of exhaustive(): flat typed arrays, grown by doubling, never shrunk. */
class DfsStack {
  depth = 0;
  /** Every frame's enabled choices, frame after frame. */
  choices = new Int32Array(1 << 12);
  start = new Int32Array(256);
  end = new Int32Array(256);
  next = new Int32Array(256);
  via = new Int32Array(256);
  mark = new Int32Array(256);
  pLo = new Int32Array(256);
  pHi = new Int32Array(256);

  push(enabled: readonly number[], via: number, mark: number, pLo: number, pHi: number): void {
    const d = this.depth;
    if (d === this.start.length) this.growFrames();
    const from = d === 0 ? 0 : this.end[d - 1]!;
    while (from + enabled.length > this.choices.length) {
      const grown = new Int32Array(this.choices.length * 2);
      grown.set(this.choices);
      this.choices = grown;
    }
    for (let k = 0; k < enabled.length; k++) this.choices[from + k] = enabled[k]!;
    this.start[d] = from;
    this.end[d] = from + enabled.length;
    this.next[d] = from;
    this.via[d] = via;
    this.mark[d] = mark;
    this.pLo[d] = pLo;
    this.pHi[d] = pHi;
    this.depth = d + 1;
  }
  pop(): void {
    this.depth--;
  }
  /** The choices that lead from the initial state to the top frame's state. */
  path(): number[] {
    const out: number[] = [];
    for (let d = 1; d < this.depth; d++) out.push(this.via[d]!);
    return out;
  }
  private growFrames(): void {
    const grow = (a: Int32Array) => {
      const g = new Int32Array(a.length * 2);
      g.set(a);
      return g;
    };
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.next = grow(this.next);
    this.via = grow(this.via);
    this.mark = grow(this.mark);
    this.pLo = grow(this.pLo);
    this.pHi = grow(this.pHi);
  }
}

/**
 * Breadth-first search: violations are met in order of schedule length, so
 * the first found is a shortest one. With `kind`, only violations of that
 * kind count (others end their path); among the shortest, the schedule
 * with the fewest interrupts and preemptions, then the fewest CPUs, wins
 * (see minimize.ts compareSchedules). Keeps every state's parent, so it
 * costs more memory than DFS; use it for counterexamples, DFS for proofs.
 */
export function shortestViolation(p: Program, opts: ExhaustiveOptions & { readonly kind?: ViolationKind } = {}): SearchResult {
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const started = performance.now();
  const m = new Machine(p);
  const visited = new VisitedSet();
  const h = new Uint32Array(2);
  const stats = { states: 1, transitions: 0, ms: 0, maxDepth: 0 };
  const parents: number[] = [-1];
  const via: number[] = [0];
  const pathTo = (index: number, last: number): number[] => {
    const path = [last];
    for (let i = index; i > 0; i = parents[i]!) path.push(via[i]!);
    return path.reverse();
  };
  const finish = (status: SearchResult['status'], violation: Violation | null, boundedOut: string | null): SearchResult => {
    stats.ms = Math.round(performance.now() - started);
    return { status, violation, boundedOut, stats };
  };
  const wanted = (v: Violation | null): v is Violation => v !== null && (opts.kind === undefined || v.kind === opts.kind);
  const init = m.initial();
  fingerprint(init, h);
  visited.add(h[0]!, h[1]!);
  {
    const end = m.enabled(init).length === 0 ? endViolation(m, init, []) : null;
    if (wanted(end)) return finish('violation', end, null);
  }
  let frontier: { s: Int32Array; index: number }[] = [{ s: init, index: 0 }];
  let firstBound: string | null = null;
  while (frontier.length > 0) {
    const next: { s: Int32Array; index: number }[] = [];
    let best: Violation | null = null;
    const consider = (v: Violation): void => {
      if (best === null || compareSchedules(v.choices, best.choices) < 0) best = v;
    };
    stats.maxDepth++;
    for (const { s, index } of frontier) {
      for (const choice of m.enabled(s)) {
        const t = m.step(s, choice);
        stats.transitions++;
        if (t[H_VIOL_KIND] !== 0) {
          const v = stepViolation(m, t, pathTo(index, choice));
          if (wanted(v)) consider(v);
          continue;
        }
        fingerprint(t, h);
        if (!visited.add(h[0]!, h[1]!)) continue;
        stats.states++;
        parents.push(index);
        via.push(choice);
        const tIndex = parents.length - 1;
        const loop = boundHit(t);
        if (loop >= 0) {
          firstBound ??= boundMessage(m, loop);
          continue;
        }
        if (m.enabled(t).length === 0) {
          const end = endViolation(m, t, pathTo(index, choice));
          if (wanted(end)) consider(end);
          continue;
        }
        if (stats.states >= maxStates) {
          return finish('bounded-out', null, `state limit reached: more than ${maxStates} distinct states (raise the state limit or shrink the bounds)`);
        }
        next.push({ s: t, index: tIndex });
      }
    }
    if (best) return finish('violation', best, null);
    frontier = next;
  }
  return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
}
