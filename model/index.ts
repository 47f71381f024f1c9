/**
 * kdefer's public API: build a design with the kernel-named builders,
 * `check()` it, read the verdict.
 *
 *   import { check, defineDesign, spin_lock, spin_unlock } from 'kdefer';
 */
import type { WaitStep } from './check/deadlock.ts';
import type { ViolationKind } from './check/violation.ts';
import { compile } from './dsl/compile.ts';
import type { Design } from './dsl/design.ts';
import { DEFAULT_MAX_STATES, exhaustive, shortestViolation } from './explore/exhaustive.ts';
import type { SearchResult, SearchStats } from './explore/outcome.ts';
import { StateSampler, type BoundHint } from './explore/hint.ts';
import { defaultMaxMemory, memoryGuard } from './explore/memory.ts';
import { DEFAULT_SHORTEST_BYTES, shortenViolation, type Shortening } from './explore/shortest.ts';
import { Machine } from './kernel/machine.ts';
import { DEFAULT_MAX_STEPS, DEFAULT_RUNS, randomSearch } from './explore/random.ts';
import { minimize } from './explore/minimize.ts';
import { ParallelismMeter } from './explore/parallelism.ts';
import { labelsOf, replay as replaySchedule } from './explore/replay.ts';
import type { CounterexampleFile } from './explore/counterexample.ts';
import type { Program } from './kernel/program.ts';

export * from './dsl/design.ts';
export * from './dsl/tasklet.ts';
export * from './dsl/bh.ts';
export * from './dsl/timer.ts';
export * from './dsl/workqueue.ts';
export { compile, DesignError, fingerprintOf } from './dsl/compile.ts';
export { withBounds, type BoundsOverride } from './dsl/bounds.ts';
export { VIOLATION_KINDS, type ViolationKind } from './check/violation.ts';
export type { KernelFlags, ProfileName } from './kernel/flags.ts';
export { PROFILES } from './kernel/flags.ts';
export { Machine } from './kernel/machine.ts';
export type { Program } from './kernel/program.ts';
export { exhaustive } from './explore/exhaustive.ts';
export { randomSearch } from './explore/random.ts';
export { replay } from './explore/replay.ts';

export interface CheckOptions {
  /** `exhaustive` (default) proves within bounds; `random` samples schedules. */
  readonly explorer?: 'exhaustive' | 'random';
  readonly maxStates?: number;
  readonly runs?: number;
  readonly seed?: number;
  readonly maxSteps?: number;
  /** Delta-debug the violating schedule down to a 1-minimal one (default true). */
  readonly minimize?: boolean;
  /** Exhaustive: partial-order reduction (model/explore/por.ts); default on. */
  readonly por?: boolean;
  /** Exhaustive: symmetry reduction over interchangeable CPUs (model/explore/symmetry.ts); default on. */
  readonly symmetry?: boolean;
  /** Exhaustive: fusion of private steps and forced chains (model/explore/dfs.ts); default on. */
  readonly fusion?: boolean;
  /**
   * Exhaustive: bytes the process may hold before the search ends as
   * bounded-out (default: a quarter of the machine's memory, at most
   * 4 GiB; see model/explore/memory.ts). The shortening of a violation's
   * schedule holds at most the lesser of this and 1 GiB.
   */
  readonly maxMemory?: number;
  /** Called now and then while searching (every few thousand states), e.g. for a progress line. */
  readonly progress?: (p: CheckProgress) => void;
}

/** What a search has done so far, for a progress line. */
export interface CheckProgress {
  /** `search`: the exhaustive search; `shortening`: the search for a shortest schedule of its violation. */
  readonly phase: 'search' | 'shortening';
  readonly states: number;
  /** Depth of the search: the DFS stack's deepest, or the BFS level. */
  readonly depth: number;
}

/** The bounds a verdict holds within. */
export interface Bounds {
  readonly cpus: number;
  readonly profile: string;
  readonly preempt: 'none' | 'full';
  /** Most arrivals per interrupt line. */
  readonly irqs: Readonly<Record<string, number>>;
  /** Most timer ticks: how far jiffies may advance (options.ticks). */
  readonly ticks: number;
  /** Most iterations per bounded loop, by position. */
  readonly loops: Readonly<Record<string, number>>;
  readonly maxStates?: number;
  readonly runs?: number;
}

export interface VerdictViolation {
  readonly kind: ViolationKind;
  readonly message: string;
  readonly cpu: number;
  readonly context: string;
  /** The schedule: replay it with `replay(program, choices)`. */
  readonly choices: readonly number[];
  /** Each choice's label, e.g. `cpu0 [task writer]: spin_lock(&A)`. */
  readonly trace: readonly string[];
  readonly cycle?: readonly WaitStep[];
  /** Length of the schedule the explorer found, before minimisation. */
  readonly foundLength: number;
  /**
   * How the schedule was shortened: `bfs` (a shortest one), `ddmin` (the
   * random explorer's 1-minimal one), `ddmin (<bound>)` (the shortest-schedule
   * search met that bound, so 1-minimal only), or `none` (minimize: false).
   */
  readonly shortened: string;
}

export interface Verdict {
  readonly design: string;
  readonly fingerprint: string;
  readonly expected: Design['expected'] | null;
  readonly status: 'verified' | 'violation' | 'bounded-out';
  readonly explorer: 'exhaustive' | 'random';
  readonly bounds: Bounds;
  readonly stats: {
    readonly states: number;
    readonly transitions: number;
    readonly ms: number;
    /** Exhaustive only: the most CPUs inside one handler at once in any explored state. */
    readonly parallelism?: number;
    /** Exhaustive only: states passed through without being stored (fusion's forced chains). */
    readonly transient?: number;
    /** Exhaustive only: the reductions used, and what they removed (see SearchStats). */
    readonly reductions?: SearchStats['reductions'];
    /** Exhaustive, violation: what shortening its schedule cost. */
    readonly shortening?: { readonly method: string; readonly states: number; readonly ms: number; readonly bytes: number };
  };
  readonly violation: VerdictViolation | null;
  /** Why the verdict is bounded-out, if it is. */
  readonly boundedOut: string | null;
  /** Which bound a bounded-out verdict met: the state limit, the memory bound, a loop bound, or sampling (random). */
  readonly bound?: 'states' | 'memory' | 'loop' | 'sampling';
  /** Bounded-out at the state or memory bound: the state words that varied most, the likely cause. */
  readonly hint?: BoundHint;
  /** The seed of a random exploration. */
  readonly seed?: number;
}

export function boundsOf(p: Program, opts: CheckOptions = {}): Bounds {
  const explorer = opts.explorer ?? 'exhaustive';
  return {
    cpus: p.ncpu,
    profile: p.design.profile ?? 'modern',
    preempt: p.preempt,
    irqs: Object.fromEntries(p.irqs.map((l) => [l.name, l.budget])),
    ticks: p.ticks,
    loops: Object.fromEntries(p.loops.map((l) => [l.where, l.bound])),
    ...(explorer === 'exhaustive' ? { maxStates: opts.maxStates ?? DEFAULT_MAX_STATES } : { runs: opts.runs ?? DEFAULT_RUNS }),
  };
}

/** "2 CPUs, ≤1 eth0 interrupt, profile modern, preempt none" */
export function boundsText(b: Bounds): string {
  const irqs = Object.entries(b.irqs).map(([n, k]) => `≤${k} ${n} interrupt${k === 1 ? '' : 's'}`);
  const loops = Object.entries(b.loops).map(([w, k]) => `≤${k} iterations at ${w}`);
  const ticks = b.ticks > 0 ? [`≤${b.ticks} timer tick${b.ticks === 1 ? '' : 's'}`] : [];
  return [`${b.cpus} CPU${b.cpus === 1 ? '' : 's'}`, ...irqs, ...ticks, ...loops, `profile ${b.profile}`, `preempt ${b.preempt}`].join(', ');
}

/**
 * Check a design: explore its schedules and return the verdict. Throws a
 * DesignError for a malformed design. Never reads `design.expected`.
 */
export function check(design: Design, opts: CheckOptions = {}): Verdict {
  const p = compile(design);
  return checkProgram(p, opts);
}

export function checkProgram(p: Program, opts: CheckOptions = {}): Verdict {
  const explorer = opts.explorer ?? 'exhaustive';
  let result: SearchResult;
  let seed: number | undefined;
  let parallelism: number | undefined;
  let bound: Verdict['bound'];
  let hint: BoundHint | undefined;
  let shortenOpts: Parameters<typeof shortenViolation>[2] | undefined;
  if (explorer === 'random') {
    const r = randomSearch(p, { runs: opts.runs ?? DEFAULT_RUNS, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
    seed = r.seed;
    // Sampling proves nothing: without a violation the verdict stays bounded-out.
    result = r.violation ? r : { ...r, status: 'bounded-out', boundedOut: r.boundedOut ?? `random exploration: ${opts.runs ?? DEFAULT_RUNS} schedules found no violation (sampling, not a proof)` };
    if (!r.violation) bound = r.boundedOut ? 'loop' : 'sampling';
  } else {
    const meter = new ParallelismMeter(p);
    const sampler = new StateSampler(new Machine(p));
    const maxMemory = opts.maxMemory ?? defaultMaxMemory();
    const guard = memoryGuard(maxMemory);
    let memoryHit = false;
    const progress = opts.progress;
    result = exhaustive(p, {
      ...(opts.maxStates !== undefined ? { maxStates: opts.maxStates } : {}),
      ...(opts.por !== undefined ? { por: opts.por } : {}),
      ...(opts.symmetry !== undefined ? { symmetry: opts.symmetry } : {}),
      ...(opts.fusion !== undefined ? { fusion: opts.fusion } : {}),
      observe: (m, s) => {
        meter.observe(m, s);
        sampler.observe(s);
      },
      memoryCheck: (bytes, stats) => {
        const why = guard(bytes, stats);
        if (why !== null) memoryHit = true;
        return why;
      },
      ...(progress ? { progress: (st: { states: number; maxDepth: number }) => progress({ phase: 'search', states: st.states, depth: st.maxDepth }) } : {}),
    });
    parallelism = meter.value;
    if (result.status === 'bounded-out') {
      bound = memoryHit ? 'memory' : result.boundedOut?.startsWith('state limit') ? 'states' : 'loop';
      if (bound !== 'loop') hint = sampler.hint() ?? undefined;
    }
    shortenOpts = {
      maxStates: opts.maxStates ?? DEFAULT_MAX_STATES,
      maxBytes: Math.min(DEFAULT_SHORTEST_BYTES, maxMemory),
      ...(progress ? { progress: (sp: { states: number; depth: number }) => progress({ phase: 'shortening', states: sp.states, depth: sp.depth }) } : {}),
    };
  }
  let v = result.violation;
  const foundLength = v?.choices.length ?? 0;
  let shortened = 'none';
  let shortening: Shortening | undefined;
  if (v && opts.minimize !== false) {
    // Keep the kind; the message and cycle are those of the minimal schedule:
    // a shortest one by BFS within the bounds (exhaustive), else ddmin's 1-minimal one.
    let shortest: readonly number[];
    if (shortenOpts) {
      shortening = shortenViolation(p, v, shortenOpts);
      shortest = shortening.choices;
      shortened = shortening.method;
    } else {
      shortest = minimize(p, v.choices, v.kind);
      shortened = 'ddmin';
    }
    const again = replaySchedule(p, shortest).violation;
    if (again) v = again;
  }
  return {
    design: p.design.name,
    fingerprint: p.fingerprint,
    expected: p.design.expected ?? null,
    status: result.status,
    explorer,
    bounds: boundsOf(p, opts),
    stats: {
      states: result.stats.states,
      transitions: result.stats.transitions,
      ms: result.stats.ms,
      ...(parallelism !== undefined ? { parallelism } : {}),
      ...(result.stats.transient !== undefined ? { transient: result.stats.transient } : {}),
      ...(result.stats.reductions !== undefined ? { reductions: result.stats.reductions } : {}),
      ...(shortening ? { shortening: { method: shortening.method, states: shortening.states, ms: shortening.ms, bytes: shortening.bytes } } : {}),
    },
    violation: v
      ? { kind: v.kind, message: v.message, cpu: v.cpu, context: v.context, choices: v.choices, trace: labelsOf(p, v.choices), foundLength, shortened, ...(v.cycle ? { cycle: v.cycle } : {}) }
      : null,
    boundedOut: result.boundedOut,
    ...(bound !== undefined ? { bound } : {}),
    ...(hint !== undefined ? { hint } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/**
 * The counterexample file of a violation verdict. `module` is the design's
 * module relative to the folder the file will be saved in.
 */
export function counterexampleOf(verdict: Verdict, module: string): CounterexampleFile {
  const v = verdict.violation;
  if (!v) throw new Error(`kdefer internal error: design '${verdict.design}' has no violation to save`);
  return {
    format: 'kdefer-counterexample',
    version: 1,
    design: { module, name: verdict.design, fingerprint: verdict.fingerprint },
    profile: verdict.bounds.profile,
    bounds: { ...verdict.bounds },
    schedule: v.choices.map((choice, i) => ({ choice, label: v.trace[i]! })),
    violation: { kind: v.kind, message: v.message },
    found: verdict.explorer === 'random' ? { explorer: 'random', seed: verdict.seed!, runs: verdict.bounds.runs! } : { explorer: 'exhaustive' },
    minimizedFrom: v.foundLength,
  };
}

export {
  checkChoicesInRange, CounterexampleError, findDesign, formatCounterexample, parseCounterexample, replayCounterexample,
  type CounterexampleFile,
} from './explore/counterexample.ts';
export { safeStem, saveCounterexample, storeCounterexample, storedFor, type StoreOutcome } from './explore/store.ts';
export { minimize } from './explore/minimize.ts';
export { scheduleHtml, type PictureOptions, type PictureViolation } from './report/html.ts';
export { shortestViolation, shortenViolation, type Shortening };
export { defaultMaxMemory, parseSize } from './explore/memory.ts';
export type { BoundHint, WordSpread } from './explore/hint.ts';
