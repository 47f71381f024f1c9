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
import { depthFirst, type DfsStats } from './dfs.ts';
import { PartialOrder, StaticFootprints } from './por.ts';
import { Symmetry } from './symmetry.ts';
import { fingerprint, VisitedSet } from './visited.ts';

/** Default cap on distinct states; past it the verdict is bounded-out, never verified. */
export const DEFAULT_MAX_STATES = 5_000_000;

export interface ExhaustiveOptions {
  readonly maxStates?: number;
  /** Partial-order reduction (model/explore/por.ts); default on. */
  readonly por?: boolean;
  /** Fusion of private steps and forced chains (model/explore/dfs.ts); default on. */
  readonly fusion?: boolean;
  /** Symmetry reduction over interchangeable CPUs (model/explore/symmetry.ts); default on. */
  readonly symmetry?: boolean;
  /** Called now and then with the search's counters (a progress line). */
  readonly progress?: (stats: DfsStats) => void;
  /** Called as the visited set grows: a reason to stop (a memory bound), or null. */
  readonly memoryCheck?: (visitedBytes: number, stats: DfsStats) => string | null;
  /** Called with each new state (e.g. a ParallelismMeter). */
  readonly observe?: (m: Machine, s: Int32Array) => void;
}

export function exhaustive(p: Program, opts: ExhaustiveOptions = {}): SearchResult {
  const started = performance.now();
  const m = new Machine(p);
  m.load(m.initial());
  const usePor = opts.por !== false;
  const fusion = opts.fusion !== false;
  const footprints = usePor || fusion ? new StaticFootprints(p) : null;
  const por = usePor ? new PartialOrder(m, footprints!) : null;
  const sym = opts.symmetry === false ? 'switched off' : Symmetry.of(p, m);
  const r = depthFirst(m, {
    ...(typeof sym !== 'string' ? { canonical: (mm: Machine, out: Int32Array) => sym.canonical(mm, out) } : {}),
    maxStates: opts.maxStates ?? DEFAULT_MAX_STATES,
    por,
    fusion,
    footprints,
    ...(opts.observe ? { observe: opts.observe } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.memoryCheck ? { memoryCheck: opts.memoryCheck } : {}),
  });
  return {
    status: r.status,
    violation: r.violation,
    boundedOut: r.boundedOut,
    stats: {
      states: r.stats.states,
      transitions: r.stats.transitions,
      ms: Math.round(performance.now() - started),
      maxDepth: r.stats.maxDepth,
      transient: r.stats.transient,
      visitedBytes: r.stats.visitedBytes,
      reductions: { por: usePor, fusion, symmetry: typeof sym === 'string' ? { orbits: [], why: sym } : { orbits: sym.orbits }, ...(por ? { reducedStates: por.stats.reducedStates, prunedTransitions: por.stats.prunedTransitions, provisoExpansions: por.stats.provisoExpansions } : {}) },
    },
  };
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
