/**
 * Random exploration: a fast-check property over choice lists. The first
 * number of a list sets how often the schedule lets an event (an interrupt,
 * a tick, a preemption, a migration, a timeout) happen when a CPU could also
 * just run its next step: always, or one time in 4, 16 or 64. Events come
 * early when taken uniformly, so bugs that need an interrupt deep inside a
 * long chain (a kworker holding a lock after a tasklet and a timer ran) need
 * the rarer settings. Each further number picks among the choices allowed
 * at its step (modulo their count); when the list runs out the schedule
 * continues with the first enabled choice, so a short list still describes a
 * whole execution. fast-check shrinks a failing list, and the schedule
 * handed back is the one the shrunk list executes. Shrinking keeps the
 * violation's kind: once a kind is found, only that kind counts as a failure.
 */
import fc from 'fast-check';
import type { ViolationKind } from '../check/violation.ts';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_RUN, choiceKind } from '../kernel/semantics.ts';
import { minimize } from './minimize.ts';
import { replay } from './replay.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type SearchResult, type Violation } from './outcome.ts';

export const DEFAULT_RUNS = 1000;
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

export interface RandomOptions {
  readonly runs?: number;
  readonly seed?: number;
  readonly maxSteps?: number;
}

export interface RandomResult extends SearchResult {
  readonly seed: number;
  /** fast-check's replay path of the failure, for `fc.assert(…, { seed, path })`. */
  readonly path: string | null;
}

interface Run {
  readonly violation: Violation | null;
  readonly steps: number;
  readonly boundedOut: string | null;
}

/** Out of 64: how often an event may be picked, by the list's first number (mod 4). */
const EVENT_ODDS = [64, 16, 4, 1];

/** Execute one schedule described by `picks`. */
export function runPicks(m: Machine, picks: readonly number[], maxSteps: number): Run {
  let s = m.initial();
  const taken: number[] = [];
  const odds = EVENT_ODDS[(picks[0] ?? 0) % EVENT_ODDS.length]!;
  const runs: number[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const en = m.enabled(s);
    if (en.length === 0) {
      const violation = endViolation(m, s, taken);
      return { violation, steps: i, boundedOut: violation ? null : endBound(m, s) };
    }
    let choice = en[0]!;
    if (i + 1 < picks.length) {
      const pick = picks[i + 1]!;
      runs.length = 0;
      for (const c of en) if (choiceKind(c) === CHOICE_RUN) runs.push(c);
      // With both kinds enabled, an event is allowed only `odds` times in 64.
      const pool = runs.length > 0 && runs.length < en.length && ((pick >>> 10) & 63) >= odds ? runs : en;
      choice = pool[pick % pool.length]!;
    }
    taken.push(choice);
    s = m.step(s, choice);
    const v = stepViolation(m, s, taken);
    if (v) return { violation: v, steps: i + 1, boundedOut: null };
    const loop = boundHit(s);
    if (loop >= 0) return { violation: null, steps: i + 1, boundedOut: boundMessage(m, loop) };
  }
  return { violation: null, steps: maxSteps, boundedOut: `a schedule ran past ${maxSteps} steps` };
}

export function randomSearch(p: Program, opts: RandomOptions = {}): RandomResult {
  const runs = opts.runs ?? DEFAULT_RUNS;
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  const started = performance.now();
  const m = new Machine(p);
  const stats = { states: 0, transitions: 0, ms: 0, maxDepth: 0 };
  let kind: ViolationKind | null = null;
  let firstBound: string | null = null;
  let shrinkRuns = 0;
  const property = fc.property(fc.array(fc.nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, 256), size: 'max' }), (picks) => {
    // Past the shrink budget every candidate "passes", so fast-check keeps the
    // smallest failure found so far; delta debugging finishes the job.
    if (kind !== null && ++shrinkRuns > SHRINK_BUDGET) return true;
    const run = runPicks(m, picks, maxSteps);
    stats.states++;
    stats.transitions += run.steps;
    if (run.steps > stats.maxDepth) stats.maxDepth = run.steps;
    if (run.boundedOut) firstBound ??= run.boundedOut;
    if (!run.violation) return true;
    kind ??= run.violation.kind;
    return run.violation.kind !== kind;
  });
  const details = fc.check(property, { numRuns: runs, seed });
  let violation: Violation | null = null;
  if (details.failed && details.counterexample) {
    violation = runPicks(m, details.counterexample[0], maxSteps).violation;
    if (violation) {
      const shortest = minimize(p, violation.choices, violation.kind);
      violation = replay(p, shortest).violation ?? violation;
    }
  }
  stats.ms = Math.round(performance.now() - started);
  const status = violation ? 'violation' : firstBound ? 'bounded-out' : 'verified';
  return {
    status,
    violation,
    boundedOut: violation ? null : firstBound,
    stats,
    seed,
    path: details.failed ? details.counterexamplePath ?? null : null,
  };
}
