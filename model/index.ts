/**
 * kdefer's public API: build a design with the kernel-named builders,
 * `check()` it, read the verdict.
 *
 *   import { check, defineDesign, spin_lock, spin_unlock } from 'kdefer';
 */
import type { WaitStep } from './check/deadlock.ts';
import type { ViolationKind } from './check/violation.ts';
import { boundsOf, boundsText, type Bounds } from './dsl/bounds.ts';
import { compile } from './dsl/compile.ts';
import type { Assumption, Design } from './dsl/design.ts';
import { exhaustive, shortestViolation, type ExhaustiveOptions } from './explore/exhaustive.ts';
import { DEFAULT_MAX_STATES, DEFAULT_RUNS } from './explore/defaults.ts';
import type { SearchResult, SearchStats } from './explore/outcome.ts';
import { StateSampler, type BoundHint } from './explore/hint.ts';
import { defaultMaxMemory, memoryGuard } from './explore/memory.ts';
import { DEFAULT_SHORTEST_BYTES, shortenViolation, type Shortening } from './explore/shortest.ts';
import { DEFAULT_MAX_STEPS, randomSearch, type RandomOptions, type RandomResult, type RunSpec, type StrategyName } from './explore/random.ts';
import type { RandomWorkers } from './explore/random-workers.ts';
import { ParallelismMeter } from './explore/parallelism.ts';
import { labelsOf, replay as replaySchedule } from './explore/replay.ts';
import type { CounterexampleFile } from './explore/counterexample.ts';
import type { Program } from './kernel/program.ts';
import { PROFILES, profileText, type KernelFlags } from './kernel/flags.ts';
import { Machine } from './kernel/machine.ts';
import { LockdepObserver, predict, type LockdepFinding } from './check/lockdep.ts';
import { Candidates, confirmFindings, type CandidateData, type LockdepSchedule, type LockdepStatus } from './check/lockdep-confirm.ts';
import { predictionReport } from './report/lockdep-predict.ts';
import { kdeferVersion, shardFingerprint, type ShardInfo, type ShardSpec } from './explore/shard.ts';
import { SERIAL_STATES, type ExhaustiveWorkers } from './explore/workers.ts';

export * from './dsl/design.ts';
export * from './dsl/tasklet.ts';
export * from './dsl/bh.ts';
export * from './dsl/timer.ts';
export * from './dsl/workqueue.ts';
export * from './dsl/raw_spinlock.ts';
export * from './dsl/rwsem.ts';
export * from './dsl/local_lock.ts';
export * from './dsl/atomic.ts';
export * from './dsl/kthread.ts';
export * from './dsl/seqcount.ts';
export * from './dsl/rcu.ts';
export * from './dsl/irq.ts';
export * from './dsl/napi.ts';
export * from './dsl/sock.ts';
export { compile, DesignError, fingerprintOf } from './dsl/compile.ts';
export { boundsOf, boundsText, withBounds, type Bounds, type BoundsOverride, type BoundsOptions } from './dsl/bounds.ts';
export { VIOLATION_KINDS, type ViolationKind } from './check/violation.ts';
export type { KernelFlags, KernelProfile, ProfileName } from './kernel/flags.ts';
export { PROFILE_INFO, PROFILES, profileText } from './kernel/flags.ts';
export { Machine } from './kernel/machine.ts';
export type { Program } from './kernel/program.ts';
export { exhaustive } from './explore/exhaustive.ts';
export {
  DEFAULT_DEPTH, DEFAULT_STRATEGY, firstViolation, randomSearch, reproduceRun, STRATEGIES, type RandomResult, type StrategyName,
} from './explore/random.ts';
export { randomSearchParallel, RandomWorkers } from './explore/random-workers.ts';
export { pctBound, pctShape } from './explore/pct.ts';
export { replay } from './explore/replay.ts';
export type { LockdepSchedule, LockdepStatus } from './check/lockdep-confirm.ts';
export { checkShard, kdeferVersion, partition, shardFingerprint, type ShardInfo, type ShardSpec } from './explore/shard.ts';
export { defaultWorkers, exhaustiveParallel, ExhaustiveWorkers, mergeResults, type ParallelOptions, type ParallelResult } from './explore/workers.ts';

export interface CheckOptions {
  /** `exhaustive` (default) proves within bounds; `random` samples schedules. */
  readonly explorer?: 'exhaustive' | 'random';
  readonly maxStates?: number;
  readonly runs?: number;
  readonly seed?: number;
  readonly maxSteps?: number;
  /** Random: how runs pick their schedules (default `mix`; README, random search). */
  readonly strategy?: StrategyName;
  /** Random, PCT: the bug depth d, d − 1 priority change points per run (default DEFAULT_DEPTH). */
  readonly depth?: number;
  /** false: hand back the violating schedule as found (shorten: 'none'). Default true. */
  readonly minimize?: boolean;
  /**
   * How a violation's schedule is shortened. `auto` (the exhaustive
   * explorer's default): a shortest one by a breadth-first search bounded
   * by the found schedule's length, by memory and by a cost of at most
   * SHORTEN_COST_RATIO times the steps of the search that found it (at
   * least SHORTEN_FLOOR_STEPS); past a bound, ddmin's 1-minimal one, saying
   * which bound (model/explore/shortest.ts). `bfs`: the same search without
   * the cost bound: a shortest schedule whatever it costs (memory and
   * states still bound it). `ddmin`: a 1-minimal one by delta debugging
   * only (minimize.ts): cheap, but may be longer than a shortest (the
   * random explorer's only way: `auto` means `ddmin` there). `none`: as
   * found, as `minimize: false`.
   */
  readonly shorten?: 'auto' | 'bfs' | 'ddmin' | 'none';
  /**
   * lockdep's prediction over the explored executions, each predicted
   * problem settled by a search (Verdict.lockdep). Default true.
   */
  readonly lockdep?: boolean;
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
  /**
   * Exhaustive only: search just this shard of a prefix partition
   * (model/explore/shard.ts); the verdict covers the shard's part, and
   * `kdefer merge` combines the verdicts of all `count` shards.
   */
  readonly shard?: ShardSpec;
}

/** What a search has done so far, for a progress line. */
export interface CheckProgress {
  /**
   * `search`: the exhaustive search; `shortening`: the search for a
   * shortest schedule of its violation; `lockdep`: after a violation, the
   * sweep of the rest of the states that lockdep's prediction learns from.
   */
  readonly phase: 'search' | 'shortening' | 'lockdep';
  readonly states: number;
  /** Depth of the search: the DFS stack's deepest, or the BFS level. */
  readonly depth: number;
}

/** How a random search went: its strategy, and where it found its violation. */
export interface RandomSummary {
  readonly strategy: StrategyName;
  readonly depth: number;
  /** Runs executed (shrinking aside), and how fast. */
  readonly runs: number;
  readonly runsPerSecond: number;
  /** 1-based: the run that first found the violation (runs to the first violation), or null. */
  readonly run: number | null;
  /** The strategy that run followed (under `mix`, one of the others). */
  readonly runStrategy: RunSpec | null;
  /** fast-check's path of the shrunk failure, for replay with the seed. */
  readonly path: string | null;
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

/**
 * A problem lockdep predicts from the explored executions
 * (model/check/lockdep.ts), and how the search settled it
 * (model/check/lockdep-confirm.ts).
 */
export interface LockdepEntry {
  /** lockdep's report kind. */
  readonly kind: LockdepFinding['kind'];
  /** lockdep's header line, e.g. `WARNING: possible circular locking dependency detected`. */
  readonly title: string;
  /** The lock classes it is about, as lockdep names them (`&dev->lock`, `(work_completion)(&w)`). */
  readonly classes: readonly string[];
  /** lockdep's report, in the kernel's format. */
  readonly report: string;
  /** confirmed (a schedule realises it), not-reachable (none within the bounds: a lockdep false positive there), not-decided. */
  readonly status: LockdepStatus;
  /** Why: the schedule found, or why none exists, or the bound that ran out. */
  readonly reason: string;
  /** The realising schedule of a confirmed problem (on `cpus` CPUs; `moved` tasks given a CPU of their own). */
  readonly schedule?: LockdepSchedule;
}

export interface Verdict {
  readonly design: string;
  readonly fingerprint: string;
  readonly expected: Design['expected'] | null;
  readonly status: 'verified' | 'violation' | 'bounded-out';
  readonly explorer: 'exhaustive' | 'random';
  /**
   * The kernel the verdict is for: the profile with the releases it stands
   * for, and any flag the design overrides, e.g. `6.6 (6.5–6.8)` or
   * `modern (6.12+), flags taskletWait=spin`.
   */
  readonly kernel: string;
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
    readonly shortening?: { readonly method: string; readonly states: number; readonly steps: number; readonly ms: number; readonly bytes: number };
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
  /**
   * What lockdep predicts over the explored executions, each problem
   * settled: a confirmed deadlock, not reachable within the bounds (with
   * the reason), or not decided. Empty if lockdep predicts nothing; absent
   * with `lockdep: false`, and from a random search run in worker threads
   * (the workers' transitions are not observed here).
   */
  readonly lockdep?: readonly LockdepEntry[];
  /** A random exploration's strategy and first violating run. */
  readonly random?: RandomSummary;
  /**
   * What the design declares its verdict assumes beyond the bounds (its
   * `assumes`), e.g. `{ bound: 'irq eth0', why: 'two segments' }`; empty if nothing.
   */
  readonly assumptions: readonly Assumption[];
  /**
   * A shard's verdict: which shard of how many, its share of the partition,
   * and the fingerprint that the shards of one search share (design,
   * compiled program, bounds, kdefer version, partition).
   */
  readonly shard?: ShardInfo & { readonly fingerprint: string; readonly version: string };
}

/** The profile with its releases, and the flags the design sets otherwise than the profile does. */
export function kernelText(p: Program): string {
  const profile = p.design.profile ?? 'modern';
  const base = PROFILES[profile];
  const changed = (Object.keys(p.flags) as (keyof KernelFlags)[]).filter((k) => base && p.flags[k] !== base[k]);
  return `${profileText(profile)}${changed.length > 0 ? `, flags ${changed.map((k) => `${k}=${String(p.flags[k])}`).join(' ')}` : ''}`;
}

/** "assumes eth0≤… (irq eth0): two segments; one remover": a design's assumptions on one line, or '' for none. */
export function assumptionsText(assumptions: readonly Assumption[]): string {
  if (assumptions.length === 0) return '';
  return `assumes ${assumptions.map((a) => (a.bound !== undefined ? `${a.why} (${a.bound})` : a.why)).join('; ')}`;
}

/**
 * Check a design: explore its schedules and return the verdict. Throws a
 * DesignError for a malformed design. Never reads `design.expected`.
 */
export function check(design: Design, opts: CheckOptions = {}): Verdict {
  const p = compile(design);
  return checkProgram(p, opts);
}

/** The reductions the options switch off (CheckOptions.por, symmetry, fusion), as the explorers' options. */
const reductionsOf = (opts: CheckOptions): { por?: boolean; symmetry?: boolean; fusion?: boolean } => ({
  ...(opts.por !== undefined ? { por: opts.por } : {}),
  ...(opts.symmetry !== undefined ? { symmetry: opts.symmetry } : {}),
  ...(opts.fusion !== undefined ? { fusion: opts.fusion } : {}),
});

/** lockdep's observer of a check's search, unless switched off. A shard's search is not observed by lockdep: its verdict has no lockdep part. */
const lockdepOf = (p: Program, opts: CheckOptions): LockdepObserver | null => (opts.lockdep === false || opts.shard ? null : new LockdepObserver(p));

/** What watches a check's exhaustive search in this thread: lockdep, the parallelism meter, the bound hint's sampler, the memory bound. */
interface SearchWatch {
  readonly lockdep: LockdepObserver | null;
  readonly meter: ParallelismMeter;
  readonly sampler: StateSampler;
  readonly maxMemory: number;
  /** Whether the memory bound stopped the search. */
  memoryHit: boolean;
  /** exhaustive()'s options for a search of at most `maxStates` states, watched. */
  options(maxStates: number | undefined): ExhaustiveOptions;
}

function watch(p: Program, opts: CheckOptions, lockdep: LockdepObserver | null): SearchWatch {
  const meter = new ParallelismMeter(p);
  const sampler = new StateSampler(new Machine(p));
  const maxMemory = opts.maxMemory ?? defaultMaxMemory();
  const guard = memoryGuard(maxMemory);
  const progress = opts.progress;
  const w: SearchWatch = {
    lockdep, meter, sampler, maxMemory, memoryHit: false,
    options: (maxStates) => ({
      ...(maxStates !== undefined ? { maxStates } : {}),
      ...(opts.shard ? { shard: opts.shard } : {}),
      ...reductionsOf(opts),
      observe: (m, s) => {
        meter.observe(m, s);
        sampler.observe(s);
      },
      memoryCheck: (bytes, stats) => {
        const why = guard(bytes, stats);
        if (why !== null) w.memoryHit = true;
        return why;
      },
      ...(progress ? { progress: (st: { states: number; maxDepth: number }) => progress({ phase: 'search', states: st.states, depth: st.maxDepth }) } : {}),
      ...(lockdep ? { transitions: lockdep } : {}),
    }),
  };
  return w;
}

/** Check a compiled design (see check). */
export function checkProgram(p: Program, opts: CheckOptions = {}): Verdict {
  const explorer = opts.explorer ?? 'exhaustive';
  if (opts.shard && explorer !== 'exhaustive') throw new RangeError('check: a shard applies to the exhaustive explorer only');
  const lockdep = lockdepOf(p, opts);
  if (explorer === 'random') return randomVerdict(p, opts, randomSearch(p, randomOptionsOf(opts), lockdep), lockdep);
  const w = watch(p, opts, lockdep);
  return searchedVerdict(p, opts, w, exhaustive(p, w.options(opts.maxStates)), w.meter.value);
}

/** The verdict of an exhaustive search's result: its bound and hint, the violation shortened, lockdep's prediction. */
function searchedVerdict(p: Program, opts: CheckOptions, w: SearchWatch, result: SearchResult, parallelism: number, swept?: Swept): Verdict {
  let bound: Verdict['bound'];
  let hint: BoundHint | undefined;
  if (result.status === 'bounded-out') {
    // A search on worker threads reports its memory bound in its reason only (memory.ts memoryGuard's words).
    bound = w.memoryHit || result.boundedOut?.startsWith('memory bound reached') ? 'memory' : result.boundedOut?.startsWith('state limit') ? 'states' : 'loop';
    if (bound !== 'loop') hint = w.sampler.hint() ?? undefined;
  }
  const progress = opts.progress;
  const shortenOpts = {
    maxStates: opts.maxStates ?? DEFAULT_MAX_STATES,
    maxBytes: Math.min(DEFAULT_SHORTEST_BYTES, w.maxMemory),
    ...(opts.symmetry !== undefined ? { symmetry: opts.symmetry } : {}),
    ...(progress ? { progress: (sp: { states: number; depth: number }) => progress({ phase: 'shortening', states: sp.states, depth: sp.depth }) } : {}),
  };
  let v = result.violation;
  const foundLength = v?.choices.length ?? 0;
  let shortened = 'none';
  let shortening: Shortening | undefined;
  const how = shortenOf(opts);
  if (v && how !== 'none') {
    // Keep the kind; the message and cycle are those of the minimal schedule:
    // a shortest one by BFS within the bounds, else (or if asked) ddmin's 1-minimal one.
    shortening = shortenViolation(p, v, { ...shortenOpts, method: how, searchSteps: result.stats.transitions });
    const shortest = shortening.choices;
    shortened = shortening.method;
    const again = replaySchedule(p, shortest).violation;
    if (again) v = again;
  }
  return verdictOf(p, opts, result, v, foundLength, shortened, { parallelism, bound, hint, shortening, ...(swept ? { swept } : {}) }, w.lockdep);
}

/**
 * checkProgram(p, opts) with the exhaustive search on the worker threads of
 * `pool` (model/explore/workers.ts). It searches in this thread first, up
 * to SERIAL_STATES states: a search that ends there is checkProgram's
 * exactly. A larger one starts again on the threads, which share one
 * visited set: the verdict of one thread (a violation is found again in
 * this thread, see workers.ts), with lockdep's prediction from every
 * thread's transitions merged; its states are a few more than one thread
 * stores with the partial-order reduction, and it names no likely cause
 * when bounded-out (the sampler runs in this thread only).
 */
export async function checkProgramParallel(p: Program, opts: CheckOptions, pool: ExhaustiveWorkers, serialStates = SERIAL_STATES): Promise<Verdict> {
  if ((opts.explorer ?? 'exhaustive') !== 'exhaustive' || opts.shard || pool.size === 1) return checkProgram(p, opts);
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const cap = Math.min(maxStates, serialStates);
  if (cap > 0) {
    const first = watch(p, opts, lockdepOf(p, opts));
    const searchOpts = first.options(cap);
    const shown = searchOpts.progress;
    const here = exhaustive(p, { ...searchOpts, progress: (st) => pool.warmAt(st.states, shown, st) });
    if (cap === maxStates || !(here.status === 'bounded-out' && here.stopped && here.stats.states > cap)) {
      return searchedVerdict(p, opts, first, here, first.meter.value, await sweptOn(pool, p, opts, here, first.lockdep, serialStates));
    }
  }
  const progress = opts.progress;
  const r = await pool.search(p, {
    maxStates,
    ...reductionsOf(opts),
    // The same bound as one thread's (checkProgram), on the whole process, threads included.
    maxMemory: opts.maxMemory ?? defaultMaxMemory(),
    ...(progress ? { progress: (states: number, depth: number) => progress({ phase: 'search', states, depth }) } : {}),
    parallelism: true,
    lockdep: opts.lockdep !== false,
    sample: true,
    serialStates: 0,
    violationHere: false,
  });
  // A violation: the one-thread check's, which finds it again (which thread met a bug first is a matter of timing);
  // lockdep's sweep of the rest of the states on the threads.
  if (r.result.status === 'violation') {
    const first = watch(p, opts, lockdepOf(p, opts));
    const again = exhaustive(p, first.options(maxStates));
    return searchedVerdict(p, opts, first, again, first.meter.value, await sweptOn(pool, p, opts, again, first.lockdep, serialStates));
  }
  // The threads' own watch: their parallelism figures and lockdep, merged; this thread's first attempt is not part of it.
  const w = watch(p, opts, r.lockdep);
  if (r.most) r.most.forEach((n, i) => (w.meter.most[i] = n));
  for (const d of r.samples ?? []) w.sampler.absorb(d);
  return searchedVerdict(p, opts, w, r.result, w.meter.value);
}

/**
 * checkProgram with the random explorer's runs spread over a pool of worker
 * threads: the same verdict as checkProgram's, sooner on large designs.
 * Other explorers run in this thread. The workers' transitions are not
 * observed here, so the verdict of a random search has no lockdep part.
 */
export async function checkProgramOn(workers: RandomWorkers, p: Program, opts: CheckOptions = {}): Promise<Verdict> {
  if ((opts.explorer ?? 'exhaustive') !== 'random') return checkProgram(p, opts);
  return randomVerdict(p, opts, await workers.search(p, randomOptionsOf(opts)), null);
}

function randomOptionsOf(opts: CheckOptions): RandomOptions {
  if (opts.shorten === 'bfs') throw new RangeError("check: shorten: 'bfs' applies to the exhaustive explorer only (the random explorer shortens by ddmin)");
  return {
    runs: opts.runs ?? DEFAULT_RUNS,
    maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
    ...(opts.depth !== undefined ? { depth: opts.depth } : {}),
    ...(randomShorten(opts) === 'none' ? { minimize: false } : {}),
  };
}

/** How the options ask a violation's schedule to be shortened (CheckOptions.shorten; default auto). */
function shortenOf(opts: CheckOptions): 'auto' | 'bfs' | 'ddmin' | 'none' {
  if (opts.minimize === false) {
    if (opts.shorten !== undefined && opts.shorten !== 'none') throw new RangeError(`check: minimize: false and shorten: '${opts.shorten}' contradict each other`);
    return 'none';
  }
  return opts.shorten ?? 'auto';
}

/** The random explorer's shortening: ddmin (its `auto`), or none. */
function randomShorten(opts: CheckOptions): 'ddmin' | 'none' {
  return shortenOf(opts) === 'none' ? 'none' : 'ddmin';
}

function randomVerdict(p: Program, opts: CheckOptions, r: RandomResult, lockdep: LockdepObserver | null): Verdict {
  // Sampling proves nothing: without a violation the verdict stays bounded-out.
  const result: SearchResult = r.violation
    ? r
    : { ...r, status: 'bounded-out', boundedOut: r.boundedOut ?? `random exploration: ${r.runs} schedules found no violation (sampling, not a proof)` };
  const random: RandomSummary = {
    strategy: r.strategy, depth: r.depth, runs: r.runs, runsPerSecond: r.runsPerSecond, run: r.run, runStrategy: r.runStrategy, path: r.path,
  };
  const bound: Verdict['bound'] = r.violation ? undefined : r.boundedOut ? 'loop' : 'sampling';
  const shortened = r.violation ? randomShorten(opts) : 'none';
  return verdictOf(p, opts, result, r.violation, r.foundLength ?? 0, shortened, { seed: r.seed, random, bound }, lockdep);
}

/** lockdep's sweep of the rest of the states after a violation, made on worker threads: why it stopped short, if it did, and the violations each thread met. */
interface Swept {
  readonly boundedOut: string | null;
  readonly candidates: readonly (readonly CandidateData[])[];
}

/**
 * After a violation (and with lockdep on), the sweep lockdepEntries would
 * make in this thread, on the pool's threads (workers.ts sweep): its facts
 * go into `lockdep`. Undefined when there is nothing to sweep.
 */
async function sweptOn(pool: ExhaustiveWorkers, p: Program, opts: CheckOptions, result: SearchResult, lockdep: LockdepObserver | null, serialStates: number): Promise<Swept | undefined> {
  if (result.status !== 'violation' || lockdep === null) return undefined;
  const progress = opts.progress;
  const r = await pool.search(p, {
    maxStates: opts.maxStates ?? DEFAULT_MAX_STATES,
    ...reductionsOf(opts),
    maxMemory: opts.maxMemory ?? defaultMaxMemory(),
    ...(progress ? { progress: (states: number, depth: number) => progress({ phase: 'lockdep', states, depth }) } : {}),
    lockdep: true,
    sweep: true,
    serialStates,
  });
  if (r.lockdep) lockdep.absorb(r.lockdep.toData());
  return { boundedOut: r.result.boundedOut, candidates: r.candidates ?? [] };
}

/**
 * lockdep's prediction over the executions the search took, each predicted
 * problem settled: by the verdict's own violation or the other violations
 * within the bounds (model/check/lockdep-confirm.ts), or with more CPUs.
 * After a violation the rest of the states is swept for it here, or was on
 * worker threads (`swept`).
 */
function lockdepEntries(p: Program, opts: CheckOptions, result: SearchResult, v: SearchResult['violation'], lockdep: LockdepObserver, bounds: Bounds, swept?: Swept): LockdepEntry[] {
  const explorer = opts.explorer ?? 'exhaustive';
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const facts = lockdep.facts;
  // The violations within the design's bounds, shortest first, that could realise a predicted problem.
  const candidates = new Candidates(facts);
  let designBounded: string | null = null;
  if (v) {
    // The verdict's own violation first: it is a shortest one of its kind (or ddmin's 1-minimal one).
    const r = replaySchedule(p, v.choices);
    if (r.violation) candidates.add(new Machine(p), r.final, r.violation, explorer === 'exhaustive');
  }
  if (explorer === 'random') {
    designBounded = 'a random search samples schedules';
  } else if (result.status === 'violation' && swept) {
    designBounded = swept.boundedOut;
    candidates.absorb(swept.candidates);
  } else if (result.status === 'violation') {
    // The search stopped at its first violation: the rest of the state graph, for lockdep's facts and
    // the other violations, with the search's own reductions (lockdep's facts are facts of each CPU's
    // own history, which they keep: model/check/lockdep.ts; its orbits are closed over below).
    const progress = opts.progress;
    const guard = memoryGuard(opts.maxMemory ?? defaultMaxMemory());
    designBounded = exhaustive(p, {
      maxStates,
      ...reductionsOf(opts),
      transitions: lockdep,
      onViolation: candidates.record,
      memoryCheck: guard,
      ...(progress ? { progress: (st) => progress({ phase: 'lockdep', states: st.states, depth: st.maxDepth }) } : {}),
    }).boundedOut;
  } else if (result.status === 'bounded-out') {
    designBounded = result.boundedOut ?? 'a bound was reached';
  }
  const orbits = result.stats.reductions?.symmetry?.orbits ?? [];
  if (orbits.length > 0) facts.closeOverCpuOrbits(orbits);
  const findings = predict(facts);
  const settled = confirmFindings(p.design, p, facts, findings, { maxStates, candidates, designBounded, boundsText: boundsText(bounds), search: explorer === 'exhaustive' });
  return findings.map((f, i) => ({
    kind: f.kind, title: f.title, classes: f.classes.map((c) => facts.classes.list[c]!.name), report: predictionReport(facts, f), ...settled[i]!,
  }));
}

function verdictOf(
  p: Program, opts: CheckOptions, result: SearchResult, v: SearchResult['violation'], foundLength: number, shortened: string,
  extra: {
    readonly parallelism?: number; readonly seed?: number; readonly random?: RandomSummary;
    readonly bound?: Verdict['bound']; readonly hint?: BoundHint | undefined; readonly shortening?: Shortening | undefined; readonly swept?: Swept;
  },
  lockdep: LockdepObserver | null,
): Verdict {
  const explorer = opts.explorer ?? 'exhaustive';
  const bounds = boundsOf(p, opts);
  const entries = lockdep ? lockdepEntries(p, opts, result, v, lockdep, bounds, extra.swept) : null;
  return {
    design: p.design.name,
    fingerprint: p.fingerprint,
    expected: p.design.expected ?? null,
    status: result.status,
    explorer,
    kernel: kernelText(p),
    bounds,
    stats: {
      states: result.stats.states,
      transitions: result.stats.transitions,
      ms: result.stats.ms,
      ...(extra.parallelism !== undefined ? { parallelism: extra.parallelism } : {}),
      ...(result.stats.transient !== undefined ? { transient: result.stats.transient } : {}),
      ...(result.stats.reductions !== undefined ? { reductions: result.stats.reductions } : {}),
      ...(extra.shortening ? { shortening: { method: extra.shortening.method, states: extra.shortening.states, steps: extra.shortening.steps, ms: extra.shortening.ms, bytes: extra.shortening.bytes } } : {}),
    },
    violation: v
      ? { kind: v.kind, message: v.message, cpu: v.cpu, context: v.context, choices: v.choices, trace: labelsOf(p, v.choices), foundLength, shortened, ...(v.cycle ? { cycle: v.cycle } : {}) }
      : null,
    boundedOut: result.boundedOut,
    ...(extra.bound !== undefined ? { bound: extra.bound } : {}),
    ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
    ...(extra.seed !== undefined ? { seed: extra.seed } : {}),
    ...(extra.random ? { random: extra.random } : {}),
    ...(entries ? { lockdep: entries } : {}),
    assumptions: p.design.assumes ?? [],
    ...(result.shard ? { shard: { ...result.shard, fingerprint: shardFingerprint(p, bounds, result.shard.count, result.stats.reductions?.symmetry?.why !== 'switched off'), version: kdeferVersion() } } : {}),
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
    found: verdict.explorer === 'random'
      ? {
        explorer: 'random', seed: verdict.seed!, runs: verdict.bounds.runs!,
        ...(verdict.random ? { strategy: verdict.random.strategy, depth: verdict.random.depth } : {}),
        ...(verdict.random?.run ? { run: verdict.random.run } : {}),
        ...(verdict.random?.path ? { path: verdict.random.path } : {}),
      }
      : { explorer: 'exhaustive' },
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
export { growCheck, growVariants, isUnassumedFlip, type GrowOutcome, type GrowVariant } from './explore/grow.ts';
