/**
 * One run of a random search: a schedule executed from the initial state,
 * each step's choice picked by the run's Chooser (a strategy's plan) among
 * the choices the model enables there, until the schedule ends, breaks a
 * rule, cuts a loop bound or runs too long.
 *
 * The chooser only ever picks among `enabled(state)`, so every schedule a
 * run takes is one the model (and the kernel) can produce, and it replays
 * label by label. A run ends only when `enabled(state)` is empty: a
 * strategy that restricts its choices (swarm) falls back to the
 * unrestricted list rather than ending the run, so it never reports a
 * deadlock the unrestricted model would not.
 */
import type { Machine } from '../kernel/machine.ts';
import { AccessWatch, abstractState, hazardKind, heldLocks, type Access } from './coverage.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type Violation } from './outcome.ts';

/** Picks the next choice of a run. */
export interface Chooser {
  /**
   * One of `en` (never empty), for step `step` (0-based) from state `s`.
   * Must return an element of `en`.
   */
  choose(m: Machine, s: Int32Array, en: readonly number[], step: number): number;
}

export interface RunRecord {
  readonly violation: Violation | null;
  readonly steps: number;
  readonly boundedOut: string | null;
  /** The schedule taken. */
  readonly choices: readonly number[];
  /** Abstract states (coverage.ts) the run reached, each once, in order; empty unless asked for. */
  readonly coverage: readonly number[];
  /** For each of `coverage`: how many steps the run had taken when it first reached it. */
  readonly reachedAt: readonly number[];
  /** Hazards (coverage.ts) the run met, each kind once, in order; empty unless coverage was asked for. */
  readonly hazards: readonly Hazard[];
  /** Tests in lock sections and writes of the design's data (coverage.ts AccessWatch), each once, in order; empty unless coverage was asked for. */
  readonly accesses: readonly Access[];
}

/** A hazard met by a run: its kind, the step it was met at (steps taken), and the event that strikes it. */
export interface Hazard {
  readonly kind: number;
  readonly at: number;
  readonly event: number;
}

const accessWatches = new WeakMap<Machine, AccessWatch>();

/**
 * Execute one run. `coverage`: also record the abstract state after each
 * step, the hazards met, and the tests and writes made (for guided search).
 */
export function executeRun(m: Machine, chooser: Chooser, maxSteps: number, coverage = false): RunRecord {
  let s = m.initial();
  const taken: number[] = [];
  const seen = coverage ? new Set<number>() : null;
  const states: number[] = [];
  const reachedAt: number[] = [];
  const reach = (h: number): void => {
    if (seen!.has(h)) return;
    seen!.add(h);
    states.push(h);
    reachedAt.push(taken.length);
  };
  const hazards: Hazard[] = [];
  const hazardSeen = coverage ? new Set<number>() : null;
  const accesses: Access[] = [];
  let watch: AccessWatch | null = null;
  if (coverage) {
    watch = accessWatches.get(m) ?? new AccessWatch(m);
    accessWatches.set(m, watch);
    watch.reset();
  }
  if (seen) reach(abstractState(m, s));
  const done = (violation: Violation | null, boundedOut: string | null): RunRecord => ({
    violation, steps: taken.length, boundedOut, choices: taken, coverage: states, reachedAt, hazards, accesses,
  });
  for (let i = 0; i < maxSteps; i++) {
    const en = m.enabled(s);
    if (en.length === 0) {
      const end = endViolation(m, s, taken);
      // A clean end the kernel would not reach (a kernel model bound, outcome.ts endBound) is not a pass.
      return done(end, end ? null : endBound(m, s));
    }
    if (hazardSeen) {
      const held = heldLocks(m, s);
      for (const c of en) {
        const h = hazardKind(m, c, held);
        if (h === null || hazardSeen.has(h)) continue;
        hazardSeen.add(h);
        hazards.push({ kind: h, at: i, event: c });
      }
    }
    const choice = chooser.choose(m, s, en, i);
    taken.push(choice);
    const before = s;
    s = m.step(s, choice);
    watch?.observe(before, choice, accesses);
    const v = stepViolation(m, s, taken);
    if (v) return done(v, null);
    const loop = boundHit(s);
    if (loop >= 0) return done(null, boundMessage(m, loop));
    if (seen) reach(abstractState(m, s));
  }
  return done(null, `a schedule ran past ${maxSteps} steps`);
}
