/**
 * Random exploration, driven by fast-check. Each run is one schedule: a
 * strategy's *plan* (a fast-check value) steers the run's choices among
 * those the model enables (random-run.ts). Strategies:
 *  - uniform: a list of numbers picks among the enabled choices (uniform.ts);
 *  - pct: random context priorities and d − 1 priority change points, with
 *    PCT's probability bound for bugs of depth d (pct.ts);
 *  - swarm: each run turns off a random subset of the kinds of choice
 *    (swarm.ts);
 *  - guided: mutations of a corpus of schedules that reached new abstract
 *    states, strikes at hazards (interrupts while a lock is held), and race
 *    strikes (an unlocked write made to land in a lock section just after
 *    the section tested what it writes) (guided.ts, coverage.ts);
 *  - mix (the default): the four, run after run in a fixed rotation
 *    (MIX_ROTATION: 3 PCT, 3 guided, 1 swarm, 1 uniform in 8), sharing one corpus: every
 *    run's coverage feeds the guided runs.
 *
 * Every run's plan is what `fc.check(property, { seed, randomType:
 * runStream })` draws for that run (random-stream.ts): run i depends on the
 * seed and i only (and, for guided runs, on the corpus of earlier epochs,
 * itself determined by the seed). Runs go in epochs of EPOCH_RUNS; the
 * corpus changes between epochs only. So a search is reproducible from its
 * seed alone, whether it runs here or on worker threads
 * (random-workers.ts), and the first violation by run index wins.
 *
 * The first violating run is then shrunk by fast-check (the same property,
 * replayed with path "run"), keeping the violation's kind, and the schedule
 * the shrunk plan executes is made minimal by minimize.ts. The seed and
 * fast-check's path of the shrunk failure are reported.
 */
import type * as fc from 'fast-check';
import { fastCheck } from './fast-check.ts';
import type { ViolationKind } from '../check/violation.ts';
import { Machine } from '../kernel/machine.ts';
import type { TransitionObserver } from '../kernel/semantics.ts';
import type { Program } from '../kernel/program.ts';
import { Corpus, EMPTY_CORPUS, EPOCH_RUNS, guidedArbitrary, guidedChooser, type CorpusSnapshot } from './guided.ts';
import type { Access } from './coverage.ts';
import { minimize } from './minimize.ts';
import type { SearchResult, SearchStats, Violation } from './outcome.ts';
import { BranchCounter, DEFAULT_DEPTH, MAX_DEPTH, PctContexts, pctArbitrary, pctChooser, pctShape, type PctShape } from './pct.ts';
import { executeRun, type Chooser, type Hazard, type RunRecord } from './random-run.ts';
import { freshSeed, runStream, valueOfRun } from './random-stream.ts';
import { replay } from './replay.ts';
import { DEFAULT_RUNS } from './defaults.ts';
import { swarmArbitrary, swarmChooser } from './swarm.ts';
import { picksArbitrary, uniformChooser } from './uniform.ts';

export { runPicks } from './uniform.ts';
export { DEFAULT_DEPTH } from './pct.ts';

export { DEFAULT_RUNS };
/**
 * Property runs fast-check may spend shrinking a failure. A long schedule
 * costs a whole run per shrink candidate, and fast-check's shrinker on
 * 256-number lists tries hundreds of thousands; past this budget the
 * schedule is finished by delta debugging over the choices (minimize.ts),
 * which keeps the kind and is 1-minimal.
 */
export const SHRINK_BUDGET = 1000;
/** Longest schedule a random run follows before it gives up (livelocks). */
export const DEFAULT_MAX_STEPS = 2000;

export const STRATEGIES = ['uniform', 'pct', 'swarm', 'guided', 'mix'] as const;
export type StrategyName = (typeof STRATEGIES)[number];
export const DEFAULT_STRATEGY: StrategyName = 'mix';
/** A strategy one run follows. */
export type RunStrategy = Exclude<StrategyName, 'mix'>;

/** What one run does: a strategy, and for PCT its depth. */
export interface RunSpec {
  readonly strategy: RunStrategy;
  readonly depth: number;
}

/**
 * The `mix` rotation, run i following entry i mod length. PCT runs use the
 * search's depth (`depth`) or, marked `shallow`, depth 2. Chosen by
 * measurement (scripts/bench-random.ts; README, random search).
 */
export const MIX_ROTATION: readonly { readonly strategy: RunStrategy; readonly shallow?: true }[] = [
  { strategy: 'pct' }, { strategy: 'guided' }, { strategy: 'pct' }, { strategy: 'guided' },
  { strategy: 'pct', shallow: true }, { strategy: 'guided' }, { strategy: 'swarm' }, { strategy: 'uniform' },
];

export interface RandomOptions {
  readonly runs?: number;
  readonly seed?: number;
  readonly maxSteps?: number;
  readonly strategy?: StrategyName;
  /** PCT's bug depth d: d − 1 priority change points per run (default DEFAULT_DEPTH). */
  readonly depth?: number;
  /** Delta-debug the shrunk schedule down to a 1-minimal one (default true). */
  readonly minimize?: boolean;
}

export interface RandomResult extends SearchResult {
  readonly seed: number;
  /** fast-check's replay path of the shrunk failure ("run:shrink steps…"), with `randomType: runStream`. */
  readonly path: string | null;
  /** Length of the shrunk schedule before delta debugging made it minimal. */
  readonly foundLength: number | null;
  readonly strategy: StrategyName;
  readonly depth: number;
  /** 1-based index of the first run that found the violation (runs to the first violation), or null. */
  readonly run: number | null;
  /** The strategy that run followed. */
  readonly runStrategy: RunSpec | null;
  /** Runs the search executed (shrinking aside), and how fast. */
  readonly runs: number;
  readonly runsPerSecond: number;
  /** PCT's contexts and measured k, if PCT runs were made. */
  readonly pct: { readonly contexts: number; readonly k: number } | null;
  /** Abstract states covered, corpus size and race targets known, if coverage was kept. */
  readonly coverage: { readonly states: number; readonly corpus: number; readonly races: number } | null;
}

/** Check and complete random options; throws RangeError naming a bad one. */
export function randomSettings(opts: RandomOptions): Required<RandomOptions> {
  const runs = opts.runs ?? DEFAULT_RUNS;
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const strategy = opts.strategy ?? DEFAULT_STRATEGY;
  const depth = opts.depth ?? DEFAULT_DEPTH;
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`random search: runs must be a whole number ≥ 1, not ${runs}`);
  if (!Number.isSafeInteger(maxSteps) || maxSteps < 1) throw new RangeError(`random search: maxSteps must be a whole number ≥ 1, not ${maxSteps}`);
  if (!STRATEGIES.includes(strategy)) throw new RangeError(`random search: unknown strategy '${String(strategy)}' (${STRATEGIES.join(', ')})`);
  if (!Number.isSafeInteger(depth) || depth < 1 || depth > MAX_DEPTH) throw new RangeError(`random search: depth must be a whole number from 1 to ${MAX_DEPTH}, not ${depth}`);
  const given = opts.seed ?? freshSeed();
  if (!Number.isSafeInteger(given) || given < -0x80000000 || given > 0xffffffff) throw new RangeError(`random search: seed must be a 32-bit integer, not ${given}`);
  // fast-check's seeds are int32: 0xffffffff and -1 are the same seed.
  return { runs, maxSteps, strategy, depth, seed: given | 0, minimize: opts.minimize ?? true };
}

type Plan = unknown;
type Snapshot = CorpusSnapshot;

/**
 * What runs of one epoch share: the corpus as it was when the epoch began,
 * and PCT's k: the most branching steps of a completed run so far (the
 * probes' and every earlier epoch's runs).
 */
export interface EpochState {
  readonly corpus: Snapshot;
  readonly k: number;
}

/** What a worker or the main thread learns from one run. */
export interface RunOutcome {
  readonly run: number;
  readonly kind: ViolationKind | null;
  readonly steps: number;
  readonly boundedOut: string | null;
  /** Schedule and abstract states, when the search keeps coverage. */
  readonly choices: readonly number[];
  readonly coverage: readonly number[];
  readonly reachedAt: readonly number[];
  readonly hazards: readonly Hazard[];
  readonly accesses: readonly Access[];
  /** Branching steps (PCT's k counts them), when the search makes PCT runs; -1 if the run did not complete. */
  readonly branches: number;
}

/**
 * One search's fixed parts: the program, its machine, the settings, PCT's
 * shape; everything needed to execute run i given the corpus snapshot of
 * its epoch. Built the same way in the main thread and in each worker.
 */
export class RandomSession {
  readonly m: Machine;
  readonly settings: Required<RandomOptions>;
  readonly keepsCoverage: boolean;
  private shapeCache: PctShape | null = null;
  private contextsCache: PctContexts | null = null;
  private readonly properties = new Map<string, fc.IProperty<[Plan]>>();

  constructor(readonly p: Program, opts: RandomOptions) {
    this.m = new Machine(p);
    this.settings = randomSettings(opts);
    this.keepsCoverage = this.settings.strategy === 'guided' || this.settings.strategy === 'mix';
    // Measured up front, so that runs per second count runs only.
    if (this.usesPct || this.settings.strategy === 'swarm') void this.shape;
  }

  get shape(): PctShape {
    return (this.shapeCache ??= pctShape(this.p, this.settings.maxSteps));
  }
  private get contexts(): PctContexts {
    return (this.contextsCache ??= new PctContexts(this.p));
  }
  get usesPct(): boolean {
    return this.settings.strategy === 'pct' || this.settings.strategy === 'mix';
  }

  /** The strategy run `run` follows. */
  specOf(run: number): RunSpec {
    const { strategy, depth } = this.settings;
    if (strategy !== 'mix') return { strategy, depth };
    const entry = MIX_ROTATION[run % MIX_ROTATION.length]!;
    return { strategy: entry.strategy, depth: entry.shallow ? Math.min(depth, 2) : depth };
  }

  /** The arbitrary of a run spec's plans, in an epoch whose PCT k is `k`. */
  arbitrary(spec: RunSpec, k: number): fc.Arbitrary<Plan> {
    const maxSteps = this.settings.maxSteps;
    switch (spec.strategy) {
      case 'uniform': return picksArbitrary(maxSteps);
      case 'pct': return pctArbitrary(this.shape.contexts.length, k, spec.depth, maxSteps);
      case 'swarm': return swarmArbitrary(this.p, this.shape.steps, maxSteps);
      case 'guided': return guidedArbitrary(maxSteps);
    }
  }

  chooser(spec: RunSpec, plan: Plan, corpus: Snapshot): Chooser {
    switch (spec.strategy) {
      case 'uniform': return uniformChooser(plan as number[]);
      case 'pct': return pctChooser(this.contexts, plan as Parameters<typeof pctChooser>[1], spec.depth);
      case 'swarm': return swarmChooser(plan as Parameters<typeof swarmChooser>[0]);
      case 'guided': return guidedChooser(corpus, plan as Parameters<typeof guidedChooser>[1]);
    }
  }

  /** The generator side of the property of a run spec (its predicate is given when shrinking). */
  private generator(spec: RunSpec, k: number): fc.IProperty<[Plan]> {
    const key = `${spec.strategy}/${spec.depth}/${spec.strategy === 'pct' ? k : 0}`;
    let prop = this.properties.get(key);
    if (!prop) {
      prop = fastCheck().property(this.arbitrary(spec, k), (_plan: Plan) => true);
      this.properties.set(key, prop);
    }
    return prop;
  }

  /** The plan run `run` follows: what fast-check draws for it. */
  planOf(run: number, epoch: EpochState): Plan {
    return valueOfRun(this.generator(this.specOf(run), epoch.k), this.settings.seed, run);
  }

  /** Execute run `run` in its epoch. */
  outcome(run: number, epoch: EpochState): RunOutcome {
    const spec = this.specOf(run);
    const chooser = this.chooser(spec, this.planOf(run, epoch), epoch.corpus);
    const counter = this.usesPct ? new BranchCounter(this.contexts, chooser) : null;
    const r = executeRun(this.m, counter ?? chooser, this.settings.maxSteps, this.keepsCoverage);
    return {
      run,
      kind: r.violation?.kind ?? null,
      steps: r.steps,
      boundedOut: r.boundedOut,
      choices: this.keepsCoverage ? r.choices : [],
      coverage: r.coverage,
      reachedAt: r.reachedAt,
      hazards: r.hazards,
      accesses: r.accesses,
      branches: counter && r.boundedOut === null ? counter.branches : -1,
    };
  }

  /** The state of the first epoch. */
  firstEpoch(): EpochState {
    return { corpus: EMPTY_CORPUS, k: this.usesPct ? this.shape.k : 1 };
  }

  /**
   * The fast-check property of run `run`: it fails on a violation of
   * `kind`. Checking it with { seed, randomType: runStream, path: "run" }
   * replays run `run` and shrinks it.
   */
  property(run: number, epoch: EpochState, kind: ViolationKind, onRun: (r: RunRecord) => void, budget = SHRINK_BUDGET): fc.IProperty<[Plan]> {
    const spec = this.specOf(run);
    let tried = 0;
    return fastCheck().property(this.arbitrary(spec, epoch.k), (plan: Plan) => {
      // Past the budget every candidate "passes", so fast-check keeps the
      // smallest failure found so far; delta debugging finishes the job.
      if (++tried > budget + 1) return true;
      const r = executeRun(this.m, this.chooser(spec, plan, epoch.corpus), this.settings.maxSteps);
      onRun(r);
      return r.violation?.kind !== kind;
    });
  }
}

/** One epoch's work: runs [first, first + count), in this epoch state. */
export interface EpochJob {
  readonly first: number;
  readonly count: number;
  readonly epoch: EpochState;
}

/**
 * The search, as a generator of epoch jobs: the driver executes each job's
 * runs (here, or on workers) and sends back their outcomes in run order
 * (it may leave out runs after a violating one). Returns the first violating
 * run, the corpus snapshot it ran against, and the runs counted.
 */
export function* searchEpochs(session: RandomSession, corpus: Corpus | null): Generator<EpochJob, SearchTally, readonly RunOutcome[]> {
  const { runs } = session.settings;
  let epoch = session.firstEpoch();
  const tally: SearchTally = { runs: 0, transitions: 0, maxDepth: 0, firstBound: null, violating: null, epoch };
  for (let first = 0; first < runs; first += EPOCH_RUNS) {
    const outcomes = yield { first, count: Math.min(EPOCH_RUNS, runs - first), epoch };
    let k = epoch.k;
    for (const o of outcomes) {
      tally.runs++;
      tally.transitions += o.steps;
      tally.maxDepth = Math.max(tally.maxDepth, o.steps);
      if (o.boundedOut) tally.firstBound ??= o.boundedOut;
      if (o.kind !== null) {
        tally.violating = o;
        tally.epoch = epoch;
        return tally;
      }
      corpus?.absorb(o);
      k = Math.max(k, o.branches);
    }
    epoch = { corpus: corpus ? corpus.snapshot() : EMPTY_CORPUS, k };
    tally.epoch = epoch;
  }
  return tally;
}

export interface SearchTally {
  runs: number;
  transitions: number;
  maxDepth: number;
  firstBound: string | null;
  violating: RunOutcome | null;
  /** The epoch of the violating run (else the last). */
  epoch: EpochState;
}

/**
 * Random search in this thread. `transitions` is told of every transition
 * the runs take, shrinking's included: each is a real execution
 * (lockdep's prediction, model/check/lockdep.ts).
 */
export function randomSearch(p: Program, opts: RandomOptions = {}, transitions: TransitionObserver | null = null): RandomResult {
  const session = new RandomSession(p, opts);
  session.m.observer = transitions;
  const started = performance.now();
  const corpus = session.keepsCoverage ? new Corpus() : null;
  const tally = searchHere(session, corpus);
  return finishSearch(session, tally, corpus, performance.now() - started, started);
}

/** Run the search's epochs in this thread, up to the first violation. */
function searchHere(session: RandomSession, corpus: Corpus | null): SearchTally {
  const search = searchEpochs(session, corpus);
  let step = search.next();
  while (!step.done) {
    const job = step.value;
    const outcomes: RunOutcome[] = [];
    for (let run = job.first; run < job.first + job.count; run++) {
      const o = session.outcome(run, job.epoch);
      outcomes.push(o);
      if (o.kind !== null) break;
    }
    step = search.next(outcomes);
  }
  return step.value;
}

/**
 * The search without shrinking: the first violating run (1-based) and its
 * kind, or null if none of `runs` violates. What randomSearch's `run` and
 * the kind of its violation would be, at the cost of the runs only.
 */
export function firstViolation(p: Program, opts: RandomOptions = {}): { readonly run: number; readonly kind: ViolationKind } | null {
  const session = new RandomSession(p, opts);
  const hit = searchHere(session, session.keepsCoverage ? new Corpus() : null).violating;
  return hit ? { run: hit.run + 1, kind: hit.kind! } : null;
}

/**
 * The state of the epoch that run `run` (0-based) belongs to, rebuilt from
 * the seed: the earlier epochs' runs are executed again (all of them: a
 * violation among them is passed over, as if the search had gone on).
 */
export function epochOfRun(session: RandomSession, run: number): EpochState {
  const corpus = session.keepsCoverage ? new Corpus() : null;
  const search = searchEpochs(session, corpus);
  let step = search.next();
  while (!step.done && step.value.first + step.value.count <= run) {
    const job = step.value;
    const outcomes: RunOutcome[] = [];
    for (let i = job.first; i < job.first + job.count; i++) outcomes.push({ ...session.outcome(i, job.epoch), kind: null });
    step = search.next(outcomes);
  }
  if (step.done) throw new RangeError(`random search: run ${run + 1} is beyond the search's ${session.settings.runs} runs`);
  return step.value.epoch;
}

/**
 * Reproduce a run of a search from its seed alone: `path` is fast-check's
 * path as a search reports it ("run" for the run as drawn, "run:a:b…" for
 * the plan shrinking reached). Returns the run executed again, its
 * schedule and its violation.
 */
export function reproduceRun(p: Program, opts: RandomOptions, path: string): RunRecord {
  if (!/^\d+(:\d+)*$/.test(path)) throw new RangeError(`random search: '${path}' is not a fast-check path (numbers separated by ':')`);
  const session = new RandomSession(p, opts);
  const run = Number(path.split(':')[0]);
  const epoch = epochOfRun(session, run);
  let last: RunRecord | null = null;
  const spec = session.specOf(run);
  const property = fastCheck().property(session.arbitrary(spec, epoch.k), (plan: Plan) => {
    last = executeRun(session.m, session.chooser(spec, plan, epoch.corpus), session.settings.maxSteps);
    return last.violation === null;
  });
  // endOnFailure: the plan at the path itself, not a further shrink of it.
  fastCheck().check(property, { seed: session.settings.seed, randomType: runStream, path, numRuns: 1, endOnFailure: true });
  if (!last) throw new Error(`kdefer internal error: fast-check ran nothing for path ${path}`);
  return last;
}

/** Shrink the first violation (if any) and assemble the result. */
export function finishSearch(session: RandomSession, tally: SearchTally, corpus: Corpus | null, searchMs: number, started: number): RandomResult {
  const { seed, strategy, depth, maxSteps } = session.settings;
  const p = session.p;
  const stats: SearchStats = { states: tally.runs, transitions: tally.transitions, ms: 0, maxDepth: tally.maxDepth };
  let violation: Violation | null = null;
  let path: string | null = null;
  let foundLength: number | null = null;
  const hit = tally.violating;
  if (hit) {
    const kind = hit.kind!;
    const property = session.property(hit.run, tally.epoch, kind, (r) => {
      stats.states++;
      stats.transitions += r.steps;
    });
    const details = fastCheck().check(property, { seed, randomType: runStream, path: String(hit.run), numRuns: 1 });
    if (!details.failed || !details.counterexample) {
      throw new Error(`kdefer internal error: run ${hit.run} of seed ${seed} did not fail again when replayed`);
    }
    path = details.counterexamplePath;
    const shrunk = executeRun(session.m, session.chooser(session.specOf(hit.run), details.counterexample[0], tally.epoch.corpus), maxSteps).violation;
    if (!shrunk || shrunk.kind !== kind) throw new Error(`kdefer internal error: the shrunk plan of run ${hit.run} does not give a ${kind}`);
    violation = shrunk;
    if (session.settings.minimize) violation = replay(p, minimize(p, shrunk.choices, kind)).violation ?? shrunk;
    foundLength = shrunk.choices.length;
  }
  stats.ms = Math.round(performance.now() - started);
  const status = violation ? 'violation' : tally.firstBound ? 'bounded-out' : 'verified';
  return {
    status,
    violation,
    boundedOut: violation ? null : tally.firstBound,
    stats,
    seed,
    path,
    foundLength,
    strategy,
    depth,
    run: hit ? hit.run + 1 : null,
    runStrategy: hit ? session.specOf(hit.run) : null,
    runs: tally.runs,
    runsPerSecond: searchMs > 0 ? Math.round((tally.runs / searchMs) * 1000) : 0,
    pct: session.usesPct ? { contexts: session.shape.contexts.length, k: tally.epoch.k } : null,
    coverage: corpus ? { states: corpus.coverage, corpus: corpus.size, races: corpus.races } : null,
  };
}
