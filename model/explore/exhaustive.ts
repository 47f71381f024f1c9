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
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type SearchResult, type Violation } from './outcome.ts';
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
  const h = new Uint32Array(2);
  const stats = { states: 0, transitions: 0, ms: 0, maxDepth: 0 };
  const finish = (status: SearchResult['status'], violation: Violation | null, boundedOut: string | null): SearchResult => {
    stats.ms = Math.round(performance.now() - started);
    return { status, violation, boundedOut, stats };
  };

  const init = m.initial();
  fingerprint(init, h);
  visited.add(h[0]!, h[1]!);
  stats.states = 1;
  const observe = opts.observe;
  observe?.(m, init);

  // The DFS stack: per level, the state, its enabled choices and the next to try.
  const states: Int32Array[] = [init];
  const choiceLists: number[][] = [m.enabled(init)];
  const next: number[] = [0];
  const path: number[] = [];
  let firstBound: string | null = null;

  if (choiceLists[0]!.length === 0) {
    const v = endViolation(m, init, path);
    const bound = v ? null : endBound(m, init);
    return finish(v ? 'violation' : bound ? 'bounded-out' : 'verified', v, bound);
  }

  while (states.length > 0) {
    const top = states.length - 1;
    const list = choiceLists[top]!;
    const i = next[top]!;
    if (i >= list.length) {
      states.pop();
      choiceLists.pop();
      next.pop();
      path.pop();
      continue;
    }
    next[top] = i + 1;
    const choice = list[i]!;
    const s = m.step(states[top]!, choice);
    stats.transitions++;
    path.push(choice);
    const v = stepViolation(m, s, path);
    if (v) return finish('violation', v, null);
    fingerprint(s, h);
    if (!visited.add(h[0]!, h[1]!)) {
      path.pop();
      continue;
    }
    stats.states++;
    if (stats.states > maxStates) {
      return finish('bounded-out', null, `state limit reached: more than ${maxStates} distinct states (raise the state limit: maxStates, or --max-states on the command line; or shrink the bounds)`);
    }
    observe?.(m, s);
    const loop = boundHit(s);
    if (loop >= 0) {
      firstBound ??= boundMessage(m, loop);
      path.pop();
      continue;
    }
    const en = m.enabled(s);
    if (en.length === 0) {
      const end = endViolation(m, s, path);
      if (end) return finish('violation', end, null);
      firstBound ??= endBound(m, s);
      path.pop();
      continue;
    }
    states.push(s);
    choiceLists.push(en);
    next.push(0);
    if (states.length > stats.maxDepth) stats.maxDepth = states.length;
  }
  return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
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
  let firstBound: string | null = null;
  if (m.enabled(init).length === 0) {
    const end = endViolation(m, init, []);
    if (wanted(end)) return finish('violation', end, null);
    if (!end) firstBound = endBound(m, init);
  }
  let frontier: { s: Int32Array; index: number }[] = [{ s: init, index: 0 }];
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
        if (stats.states > maxStates) {
          return finish('bounded-out', null, `state limit reached: more than ${maxStates} distinct states (raise the state limit or shrink the bounds)`);
        }
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
          else if (!end) firstBound ??= endBound(m, t);
          continue;
        }
        next.push({ s: t, index: tIndex });
      }
    }
    if (best) return finish('violation', best, null);
    frontier = next;
  }
  return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
}
