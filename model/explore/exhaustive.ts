/**
 * Exhaustive search: depth-first over the state graph, with a visited set
 * of 64-bit fingerprints. Proves the absence of violations within the
 * design's bounds, or returns the first violating schedule found.
 */
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import type { TransitionObserver } from '../kernel/semantics.ts';
import type { SearchResult, Violation } from './outcome.ts';
import { depthFirst, type DfsStats } from './dfs.ts';
import { PartialOrder, StaticFootprints } from './por.ts';
import type { SharedVisitedSet } from './shared-visited.ts';
import { Symmetry } from './symmetry.ts';
import { partition, searchShard, type ShardSpec } from './shard.ts';

import { DEFAULT_MAX_STATES } from './defaults.ts';

export { DEFAULT_MAX_STATES };

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
  /** Told of every transition the search takes (e.g. lockdep's prediction, model/check/lockdep.ts). */
  readonly transitions?: TransitionObserver;
  /** Search only this shard of a prefix partition (model/explore/shard.ts). */
  readonly shard?: ShardSpec;
  /** A sweep: told of each violation met, and the search goes on past it (dfs.ts DfsOptions.onViolation). */
  readonly onViolation?: (m: Machine, s: Int32Array, v: Violation) => void;
  /** One of several threads searching with one shared visited set (workers.ts; dfs.ts DfsOptions.shared, order, stop). */
  readonly shared?: { readonly set: SharedVisitedSet; readonly order: number; readonly stop: () => string | null };
}

export function exhaustive(p: Program, opts: ExhaustiveOptions = {}): SearchResult {
  if (opts.shard) return exhaustiveShard(p, opts, opts.shard);
  const started = performance.now();
  const m = new Machine(p);
  m.observer = opts.transitions ?? null;
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
    ...(opts.shared ? { shared: opts.shared.set, order: opts.shared.order, stop: opts.shared.stop } : {}),
    ...(opts.onViolation ? { onViolation: opts.onViolation } : {}),
  });
  return {
    status: r.status,
    violation: r.violation,
    boundedOut: r.boundedOut,
    ...(r.stopped ? { stopped: true as const } : {}),
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

/** One shard of the search (shard.ts): the partition, then the shard's prefixes. */
function exhaustiveShard(p: Program, opts: ExhaustiveOptions, shard: ShardSpec): SearchResult {
  const started = performance.now();
  const symmetry = opts.symmetry !== false;
  const part = partition(p, { count: shard.count, symmetry });
  return searchShard(p, part, shard, {
    maxStates: opts.maxStates ?? DEFAULT_MAX_STATES,
    por: opts.por !== false,
    fusion: opts.fusion !== false,
    symmetry,
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.memoryCheck ? { memoryCheck: opts.memoryCheck } : {}),
    ...(opts.observe ? { observe: opts.observe } : {}),
  }, started);
}

/** The shortest-schedule search lives in shortest.ts (fingerprints and parent links only). */
export { shortestViolation } from './shortest.ts';
