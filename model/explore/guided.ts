/**
 * Coverage-guided random search, as greybox fuzzers do it (AFL's corpus and
 * mutations, AFLFast's preference for rare paths), on schedules. The search
 * keeps a bounded corpus of schedules that reached an abstract state
 * (coverage.ts) no earlier run had reached, one per new state, cut just
 * after the step that reached it. A guided run picks a parent, the rarer
 * its new state (the fewer runs have reached it since) the likelier, and
 * mutates it:
 *  - extend: the whole schedule, then onwards at random from its new state;
 *  - event: strike a hazard. A hazard is a state where an event (an
 *    interrupt, a tick, a preemption) can hit a CPU whose running context
 *    holds a lock (coverage.ts): an interrupt inside a critical section,
 *    whose handler or irq_exit softirqs may meet that lock, is how most
 *    deferred-work bugs show. The corpus also keeps, for each kind of
 *    hazard met (which context, holding which locks, which event), the
 *    first schedule that met it; an event mutation replays one (the rarer
 *    the likelier), takes the event there, and goes on at random;
 *  - truncate: a prefix of it, then onwards at random;
 *  - splice: a prefix of one schedule, then the rest of another from some
 *    point on;
 *  - swap: exchange adjacent choices (one CPU's step moves before
 *    another's, an interrupt comes one step earlier or later), a few times;
 *  - drop: leave one choice out;
 *  - fresh: no parent, a uniform run (also what runs do while the corpus is
 *    empty);
 *  - race: strike a race target (raceChooser). Runs note the tests of the
 *    design's data made in lock sections and the writes made without the
 *    lock (coverage.ts AccessWatch); a write of an item that a section
 *    tests under a lock the writer does not hold is a race target. A race
 *    strike is a run in which the write is made to land in the section
 *    just after the test, by holding one side back until the other comes
 *    (RaceFuzzer), and the writer then goes on while the section waits.
 *    Without a race target known, a hazard strike in its place.
 * The mutated schedule is followed choice by choice (a choice names a CPU
 * and an event, so it keeps its meaning when steps around it change); where
 * its choice is not enabled the step is picked at random instead, as is
 * every step after the schedule ends, in timeslices of a length the plan
 * draws (TIMESLICES).
 *
 * Reproducibility: the corpus changes only between epochs (blocks of
 * EPOCH_RUNS runs, in run order), so run i depends on the seed and on the
 * runs of earlier epochs only, which the seed determines. Re-running the
 * search with the same seed rebuilds the same corpus and the same runs, on
 * any number of worker threads.
 */
import type * as fc from 'fast-check';
import { fastCheck } from './fast-check.ts';
import { X_PC } from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import { CHOICE_RUN, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { accessKey, type Access } from './coverage.ts';
import type { Chooser, RunRecord } from './random-run.ts';
import { mix32 } from './random-stream.ts';
import { EVENT_ODDS, pickWithOdds, PICKS_LENGTH } from './uniform.ts';

/** Runs per epoch: the corpus is updated between epochs only. */
export const EPOCH_RUNS = 32;
/** Most schedules kept in the corpus (then the one whose state is most common goes). */
export const MAX_CORPUS = 128;
/** Most abstract states remembered; past it, coverage stops growing. */
export const MAX_COVERAGE = 1 << 20;

export const MUTATIONS = ['extend', 'event', 'race', 'truncate', 'splice', 'swap', 'drop', 'fresh'] as const;
export type Mutation = (typeof MUTATIONS)[number];
/** How often each mutation is drawn, out of their sum. */
const MUTATION_WEIGHTS: Readonly<Record<Mutation, number>> = {
  extend: 3, event: 3, race: 5, truncate: 2, splice: 1, swap: 1, drop: 1, fresh: 1,
};
/**
 * Timeslices of a guided run's random steps: the run keeps the CPU that
 * stepped last with odds 1 − 1/n, n one of these (1: every step picked
 * afresh, as uniform does).
 */
export const TIMESLICES: readonly number[] = [1, 4, 16, 64];
/** The timeslices after a race strike's write: the writer goes on, the section waits. */
export const RACE_TIMESLICES: readonly number[] = [16, 32, 64, 128];

/**
 * A guided plan: which corpus entries, which mutation, where, and the
 * numbers of the random part. A race strike takes race target `parent`
 * (modulo their number), and holds the writer back if `at2` is even, the
 * tester if odd.
 */
export interface GuidedPlan {
  readonly mutation: Mutation;
  readonly parent: number;
  readonly other: number;
  readonly at: number;
  readonly at2: number;
  readonly swaps: number;
  /** Index into TIMESLICES (RACE_TIMESLICES for a race strike). */
  readonly slice: number;
  /** As a uniform plan: the first number sets the event odds, the rest pick the random steps. */
  readonly picks: readonly number[];
}

/** The corpus as a guided run sees it: its schedules and hazards, with cumulative selection weights. */
export interface CorpusSnapshot {
  readonly schedules: readonly (readonly number[])[];
  /** weights[i]: sum of the weights of schedules 0..i. */
  readonly weights: readonly number[];
  /** Per hazard kind: the schedule up to it, and the event that strikes it. */
  readonly hazards: readonly { readonly schedule: readonly number[]; readonly event: number }[];
  readonly hazardWeights: readonly number[];
  /** Race targets (coverage.ts AccessWatch), in the order found. */
  readonly races: readonly RaceTarget[];
}

export const EMPTY_CORPUS: CorpusSnapshot = { schedules: [], weights: [], hazards: [], hazardWeights: [], races: [] };
/** Most hazard kinds kept (then the most common goes). */
export const MAX_HAZARDS = 256;
/** Most race targets kept (the first ones found). */
export const MAX_RACES = 256;
/** Steps a race strike holds one side back at most, waiting for the other. */
export const RACE_HOLD = 64;

/** A race target: the pc of an instruction writing an item without a lock, and of the instructions testing that item under it. */
export interface RaceTarget {
  readonly write: number;
  readonly tests: readonly number[];
}

interface Entry {
  readonly schedule: readonly number[];
  /** The new abstract state it reached last. */
  readonly state: number;
}

/** The coverage seen so far (with how many runs reached each state) and the corpus of schedules that found it. */
export class Corpus {
  private readonly hits = new Map<number, number>();
  private readonly entries: Entry[] = [];
  private readonly hazardHits = new Map<number, number>();
  private readonly hazards: { readonly kind: number; readonly schedule: readonly number[]; readonly event: number }[] = [];
  /** Tests and writes seen, per item: pc and locks held, keyed by accessKey. */
  private readonly tests = new Map<number, Map<number, Access>>();
  private readonly writes = new Map<number, Map<number, Access>>();
  /** Race targets by write pc: the tests it races with. */
  private readonly raceTargets = new Map<number, Set<number>>();

  /** Abstract states reached so far. */
  get coverage(): number {
    return this.hits.size;
  }
  get size(): number {
    return this.entries.length;
  }
  /** Race targets known: writes that race with a test. */
  get races(): number {
    return this.raceTargets.size;
  }

  /**
   * Take in a run (in run order): count the states it reached, and keep its
   * schedule up to each new one (one entry per new state).
   */
  absorb(run: Pick<RunRecord, 'choices' | 'coverage' | 'reachedAt' | 'hazards' | 'accesses'>): boolean {
    let fresh = false;
    for (const hz of run.hazards) {
      if (keepFirst(this.hazards, this.hazardHits, MAX_HAZARDS, { kind: hz.kind, schedule: run.choices.slice(0, hz.at), event: hz.event })) fresh = true;
    }
    for (const a of run.accesses) if (this.learn(a)) fresh = true;
    for (let i = 0; i < run.coverage.length; i++) {
      const h = run.coverage[i]!;
      const seen = this.hits.get(h);
      if (seen !== undefined) {
        this.hits.set(h, seen + 1);
        continue;
      }
      if (this.hits.size >= MAX_COVERAGE) continue;
      this.hits.set(h, 1);
      fresh = true;
      const upTo = run.reachedAt[i]!;
      if (upTo > 0) this.add({ schedule: run.choices.slice(0, upTo), state: h });
    }
    return fresh;
  }

  /** Take in a test or a write; pair it with the writes or tests of the same item it races with. True if a new pair came of it. */
  private learn(a: Access): boolean {
    const mine = a.write ? this.writes : this.tests;
    const key = accessKey(a);
    let known = mine.get(a.item);
    if (!known) mine.set(a.item, (known = new Map()));
    if (known.has(key)) return false;
    known.set(key, a);
    let fresh = false;
    for (const other of (a.write ? this.tests : this.writes).get(a.item)?.values() ?? []) {
      const [test, write] = a.write ? [other, a] : [a, other];
      // The test's section holds a lock the write does not.
      if ((test.held & ~write.held) === 0 || test.pc === write.pc) continue;
      let tests = this.raceTargets.get(write.pc);
      if (!tests) {
        if (this.raceTargets.size >= MAX_RACES) continue;
        this.raceTargets.set(write.pc, (tests = new Set()));
      }
      if (tests.has(test.pc)) continue;
      tests.add(test.pc);
      fresh = true;
    }
    return fresh;
  }

  private add(entry: Entry): void {
    if (this.entries.length < MAX_CORPUS) {
      this.entries.push(entry);
      return;
    }
    // Full: the entry whose state the most runs reach goes.
    let worst = 0;
    for (let i = 1; i < this.entries.length; i++) if (this.hitsOf(this.entries[i]!) > this.hitsOf(this.entries[worst]!)) worst = i;
    this.entries[worst] = entry;
  }

  private hitsOf(e: Entry): number {
    return this.hits.get(e.state) ?? 1;
  }

  /** The schedules as they are now, each weighted by how rare its new state is (entries are never changed in place). */
  snapshot(): CorpusSnapshot {
    const weights: number[] = [];
    let sum = 0;
    for (const e of this.entries) {
      sum += Math.ceil(0x10000 / this.hitsOf(e));
      weights.push(sum);
    }
    const hazardWeights = rarityWeights(this.hazards, this.hazardHits);
    return {
      schedules: this.entries.map((e) => e.schedule), weights,
      hazards: this.hazards.map((hz) => ({ schedule: hz.schedule, event: hz.event })), hazardWeights,
      races: [...this.raceTargets].map(([write, tests]) => ({ write, tests: [...tests] })),
    };
  }
}

/**
 * Count a kind met by a run, and keep the first schedule of a new kind
 * (when `list` is full, in place of the kind met most often). True if the
 * kind is new.
 */
function keepFirst<T extends { readonly kind: number }>(list: T[], hits: Map<number, number>, max: number, entry: T): boolean {
  const seen = hits.get(entry.kind);
  hits.set(entry.kind, (seen ?? 0) + 1);
  if (seen !== undefined) return false;
  if (list.length < max) {
    list.push(entry);
  } else {
    let worst = 0;
    for (let i = 1; i < list.length; i++) if (hits.get(list[i]!.kind)! > hits.get(list[worst]!.kind)!) worst = i;
    list[worst] = entry;
  }
  return true;
}

/** Cumulative weights of kinds, each the rarer the heavier. */
function rarityWeights(list: readonly { readonly kind: number }[], hits: ReadonlyMap<number, number>): number[] {
  const weights: number[] = [];
  let sum = 0;
  for (const e of list) {
    sum += Math.ceil(0x10000 / hits.get(e.kind)!);
    weights.push(sum);
  }
  return weights;
}

/** The index that `n` selects among cumulative `weights` (non-empty). */
function select(weights: readonly number[], n: number): number {
  const x = n % weights[weights.length - 1]!;
  let lo = 0;
  let hi = weights.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (weights[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The arbitrary of guided plans. */
export function guidedArbitrary(maxSteps: number): fc.Arbitrary<GuidedPlan> {
  return fastCheck().record({
    mutation: fastCheck().oneof(...MUTATIONS.map((m) => ({ arbitrary: fastCheck().constant(m), weight: MUTATION_WEIGHTS[m] }))),
    parent: fastCheck().nat(),
    other: fastCheck().nat(),
    at: fastCheck().nat(),
    at2: fastCheck().nat(),
    swaps: fastCheck().integer({ min: 1, max: 4 }),
    slice: fastCheck().nat({ max: TIMESLICES.length - 1 }),
    picks: fastCheck().array(fastCheck().nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, PICKS_LENGTH), size: 'max' }),
  });
}

/** The schedule a guided plan starts from: its mutation of the corpus snapshot. */
export function mutate(corpus: CorpusSnapshot, plan: GuidedPlan): readonly number[] {
  if (plan.mutation === 'event' && corpus.hazards.length > 0) {
    const hazard = corpus.hazards[select(corpus.hazardWeights, plan.parent)]!;
    return [...hazard.schedule, hazard.event];
  }
  if (corpus.schedules.length === 0 || plan.mutation === 'fresh') return [];
  const parent = corpus.schedules[select(corpus.weights, plan.parent)]!;
  const cut = plan.at % (parent.length + 1);
  switch (plan.mutation) {
    case 'extend':
    case 'event':
    case 'race': // without a race target to strike (guidedChooser strikes a hazard then)
      return parent;
    case 'truncate':
      return parent.slice(0, cut);
    case 'splice': {
      const other = corpus.schedules[plan.other % corpus.schedules.length]!;
      return [...parent.slice(0, cut), ...other.slice(plan.at2 % (other.length + 1))];
    }
    case 'swap': {
      const out = parent.slice();
      if (out.length < 2) return out;
      for (let j = 0; j < plan.swaps; j++) {
        const i = (plan.at + j * (plan.at2 % out.length)) % (out.length - 1);
        [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      }
      return out;
    }
    case 'drop':
      return parent.length === 0 ? [] : [...parent.slice(0, cut % parent.length), ...parent.slice((cut % parent.length) + 1)];
  }
}

/**
 * The chooser of a guided plan: follow the mutated schedule while it fits,
 * else pick as uniform does, in timeslices: a random step keeps the CPU
 * that ran the step before with odds 1 − 1/n (n from the plan; 1: no
 * timeslices, every step picked afresh). Uniform picks switch CPUs at
 * nearly every step, so a context rarely runs a dozen steps in a row
 * while another waits in the middle of something; a timeslice does it
 * often, as a real CPU's does. A race strike is raceChooser.
 */
export function guidedChooser(corpus: CorpusSnapshot, drawn: GuidedPlan): Chooser {
  if (drawn.mutation === 'race' && corpus.races.length > 0) return raceChooser(corpus.races[drawn.parent % corpus.races.length]!, drawn);
  // No race target known: strike a hazard instead.
  const plan: GuidedPlan = drawn.mutation === 'race' ? { ...drawn, mutation: 'event' } : drawn;
  const prefix = mutate(corpus, plan);
  // An event mutation without a hazard to strike (none met yet): an event at the parent's end.
  const eventAt = plan.mutation === 'event' && corpus.hazards.length === 0 && prefix.length > 0 ? prefix.length : -1;
  const slices = new Slices(plan, TIMESLICES);
  const events: number[] = [];
  return {
    choose(_m, _s, en, step) {
      if (step < prefix.length && en.includes(prefix[step]!)) return slices.took(prefix[step]!);
      if (step === eventAt) {
        events.length = 0;
        for (const c of en) if (choiceKind(c) !== CHOICE_RUN) events.push(c);
        if (events.length > 0) return slices.took(events[plan.at2 % events.length]!);
      }
      return slices.pick(en, step);
    },
  };
}

/** The random steps of a guided plan: uniform picks (pickWithOdds), in timeslices of the plan's length. */
class Slices {
  private readonly slice: number;
  private readonly odds: number;
  private readonly runs: number[] = [];
  /** The CPU that ran the last step, or -1. */
  last = -1;
  /**
   * `tail`: when the plan's numbers run out, go on with numbers hashed from
   * the plan and the step (else: the first enabled choice, as uniform does).
   */
  constructor(private readonly plan: GuidedPlan, lengths: readonly number[], private readonly tail = false) {
    this.slice = lengths[plan.slice % lengths.length]!;
    this.odds = EVENT_ODDS[(plan.picks[0] ?? 0) % EVENT_ODDS.length]!;
  }
  took(c: number): number {
    if (choiceKind(c) === CHOICE_RUN) this.last = choiceCpu(c);
    return c;
  }
  /**
   * A random step among `pool` (non-empty): as uniform picks it, but where
   * that is a CPU's step, the CPU that ran the last step keeps running
   * with odds 1 − 1/slice. Events come as often as in uniform picks.
   */
  pick(pool: readonly number[], step: number): number {
    const n = step + 1 < this.plan.picks.length ? this.plan.picks[step + 1]! : this.tail ? mix32(this.plan.at ^ mix32(step)) & 0xffff : -1;
    if (n < 0) return this.took(pool[0]!);
    const c = pickWithOdds(pool, n, this.odds, this.runs);
    // The low bits picked and the high ones set the event odds; the timeslice takes a hash of the number.
    if (this.slice > 1 && this.last >= 0 && choiceKind(c) === CHOICE_RUN && (mix32(n + step) >>> 0) % this.slice !== 0) {
      for (const r of pool) if (choiceKind(r) === CHOICE_RUN && choiceCpu(r) === this.last) return this.took(r);
    }
    return this.took(c);
  }
}

/**
 * A race strike (RaceFuzzer: Sen, PLDI 2008) on a race target: a run picked
 * as uniform does, except that one side is held back until the other
 * comes, so that the write lands in a section just after its test:
 *  - hold the writer: a CPU about to execute the write does not run (its
 *    interrupts may still come) until some context executes one of the
 *    tests; the writer then runs at once;
 *  - hold the tester: a CPU that has just executed a test does not run
 *    until some context is about to execute the write, which then runs.
 * The plan says which. After the write, the writer's CPU goes on in long
 * timeslices (RACE_TIMESLICES) while the section waits where it is. A side
 * is held RACE_HOLD steps at most (then let go, and held again at the next
 * chance), and never when nothing else can step: the schedule is always
 * one the model can take, and a run never stops for being held.
 */
export function raceChooser(target: RaceTarget, plan: GuidedPlan): Chooser {
  const holdWriter = (plan.at2 & 1) === 0;
  const before = new Slices(plan, [1], true);
  const after = new Slices(plan, RACE_TIMESLICES, true);
  const pool: number[] = [];
  let struck = false;
  /** The context held back, or -1; the steps it has been held. */
  let held = -1;
  let waited = 0;
  /** A context let go after being held: not held again until it has stepped. */
  let released = -1;
  /** Holding the writer: a test has just run, the writer goes next. */
  let tested = false;
  const ctxOf = (m: Machine, c: number): number => (choiceKind(c) === CHOICE_RUN ? m.top(choiceCpu(c)) : -1);
  const pcOf = (m: Machine, ctx: number): number => m.s[m.ctxOff(ctx) + X_PC]!;
  return {
    choose(m, _s, en, step) {
      if (struck) return after.pick(en, step);
      if (tested || (!holdWriter && held >= 0)) {
        // The write, now, by a context other than the held tester.
        for (const c of en) {
          const ctx = ctxOf(m, c);
          if (ctx < 0 || (!holdWriter && ctx === held) || pcOf(m, ctx) !== target.write) continue;
          struck = true;
          after.last = choiceCpu(c);
          return c;
        }
        tested = false;
      }
      if (held >= 0 && ++waited > RACE_HOLD) {
        released = held;
        held = -1;
      }
      if (holdWriter && held < 0) {
        for (const c of en) {
          const ctx = ctxOf(m, c);
          if (ctx >= 0 && ctx !== released && pcOf(m, ctx) === target.write) held = ctx;
        }
        waited = 0;
      }
      pool.length = 0;
      for (const c of en) if (held < 0 || ctxOf(m, c) !== held) pool.push(c);
      if (pool.length === 0) {
        // Nothing else can step: let it go.
        released = held;
        held = -1;
      }
      const c = before.pick(pool.length > 0 ? pool : en, step);
      const ctx = ctxOf(m, c);
      if (ctx < 0) return c;
      if (ctx === released) released = -1;
      if (target.tests.includes(pcOf(m, ctx))) {
        if (holdWriter) tested = held >= 0;
        else if (held < 0) {
          held = ctx;
          waited = 0;
        }
      }
      return c;
    },
  };
}
