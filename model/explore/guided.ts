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
 *    empty).
 * The mutated schedule is followed choice by choice (a choice names a CPU
 * and an event, so it keeps its meaning when steps around it change); where
 * its choice is not enabled the step is picked at random instead, as is
 * every step after the schedule ends.
 *
 * Reproducibility: the corpus changes only between epochs (blocks of
 * EPOCH_RUNS runs, in run order), so run i depends on the seed and on the
 * runs of earlier epochs only, which the seed determines. Re-running the
 * search with the same seed rebuilds the same corpus and the same runs, on
 * any number of worker threads.
 */
import fc from 'fast-check';
import { CHOICE_RUN, choiceKind } from '../kernel/semantics.ts';
import type { Chooser, RunRecord } from './random-run.ts';
import { EVENT_ODDS, pickWithOdds, PICKS_LENGTH } from './uniform.ts';

/** Runs per epoch: the corpus is updated between epochs only. */
export const EPOCH_RUNS = 32;
/** Most schedules kept in the corpus (then the one whose state is most common goes). */
export const MAX_CORPUS = 128;
/** Most abstract states remembered; past it, coverage stops growing. */
export const MAX_COVERAGE = 1 << 20;

export const MUTATIONS = ['extend', 'event', 'truncate', 'splice', 'swap', 'drop', 'fresh'] as const;
export type Mutation = (typeof MUTATIONS)[number];
/** How often each mutation is drawn, out of their sum. */
const MUTATION_WEIGHTS: Readonly<Record<Mutation, number>> = { extend: 3, event: 3, truncate: 2, splice: 1, swap: 1, drop: 1, fresh: 1 };

/** A guided plan: which corpus entries, which mutation, where, and the numbers of the random part. */
export interface GuidedPlan {
  readonly mutation: Mutation;
  readonly parent: number;
  readonly other: number;
  readonly at: number;
  readonly at2: number;
  readonly swaps: number;
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
}

export const EMPTY_CORPUS: CorpusSnapshot = { schedules: [], weights: [], hazards: [], hazardWeights: [] };
/** Most hazard kinds kept (then the most common goes). */
export const MAX_HAZARDS = 256;

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

  /** Abstract states reached so far. */
  get coverage(): number {
    return this.hits.size;
  }
  get size(): number {
    return this.entries.length;
  }

  /**
   * Take in a run (in run order): count the states it reached, and keep its
   * schedule up to each new one (one entry per new state).
   */
  absorb(run: Pick<RunRecord, 'choices' | 'coverage' | 'reachedAt' | 'hazards'>): boolean {
    let fresh = false;
    for (const hz of run.hazards) {
      const seen = this.hazardHits.get(hz.kind);
      this.hazardHits.set(hz.kind, (seen ?? 0) + 1);
      if (seen !== undefined) continue;
      fresh = true;
      const entry = { kind: hz.kind, schedule: run.choices.slice(0, hz.at), event: hz.event };
      if (this.hazards.length < MAX_HAZARDS) {
        this.hazards.push(entry);
      } else {
        let worst = 0;
        for (let i = 1; i < this.hazards.length; i++) if (this.hazardHits.get(this.hazards[i]!.kind)! > this.hazardHits.get(this.hazards[worst]!.kind)!) worst = i;
        this.hazards[worst] = entry;
      }
    }
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
    const hazardWeights: number[] = [];
    let hsum = 0;
    for (const hz of this.hazards) {
      hsum += Math.ceil(0x10000 / this.hazardHits.get(hz.kind)!);
      hazardWeights.push(hsum);
    }
    return {
      schedules: this.entries.map((e) => e.schedule), weights,
      hazards: this.hazards.map((hz) => ({ schedule: hz.schedule, event: hz.event })), hazardWeights,
    };
  }
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
  return fc.record({
    mutation: fc.oneof(...MUTATIONS.map((m) => ({ arbitrary: fc.constant(m), weight: MUTATION_WEIGHTS[m] }))),
    parent: fc.nat(),
    other: fc.nat(),
    at: fc.nat(),
    at2: fc.nat(),
    swaps: fc.integer({ min: 1, max: 4 }),
    picks: fc.array(fc.nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, PICKS_LENGTH), size: 'max' }),
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

/** The chooser of a guided plan: follow the mutated schedule while it fits, else pick as uniform does. */
export function guidedChooser(corpus: CorpusSnapshot, plan: GuidedPlan): Chooser {
  const prefix = mutate(corpus, plan);
  // An event mutation without a hazard to strike (none met yet): an event at the parent's end.
  const eventAt = plan.mutation === 'event' && corpus.hazards.length === 0 && prefix.length > 0 ? prefix.length : -1;
  const odds = EVENT_ODDS[(plan.picks[0] ?? 0) % EVENT_ODDS.length]!;
  const runs: number[] = [];
  const events: number[] = [];
  return {
    choose(_m, _s, en, step) {
      if (step < prefix.length && en.includes(prefix[step]!)) return prefix[step]!;
      if (step === eventAt) {
        events.length = 0;
        for (const c of en) if (choiceKind(c) !== CHOICE_RUN) events.push(c);
        if (events.length > 0) return events[plan.at2 % events.length]!;
      }
      return step + 1 < plan.picks.length ? pickWithOdds(en, plan.picks[step + 1]!, odds, runs) : en[0]!;
    },
  };
}
