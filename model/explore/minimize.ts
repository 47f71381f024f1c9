/**
 * Minimal schedules. Whichever explorer finds a violation, the schedule
 * handed back is made minimal while keeping the violation's kind:
 *  1. fewest choices: delta debugging (Zeller's ddmin) over the choice list,
 *     where a candidate counts only if it replays exactly (every choice
 *     enabled where it is taken) to a violation of the same kind;
 *  2. then fewest interrupts and preemptions, then fewest CPUs involved:
 *     among the 1-minimal candidates met on the way, the best by that order.
 * A choice encodes "cpu N runs its next step" (or an event on a CPU), so a
 * shorter list keeps its meaning when steps are removed around it.
 */
import { kindOf, type ViolationKind } from '../check/violation.ts';
import { H_BOUND_HIT, H_VIOL_KIND } from '../kernel/layout.ts';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_RUN, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { endViolation } from './outcome.ts';

/**
 * Replays candidate schedules on one machine, stepping in place from a
 * copy of the initial state, without labels: what ddmin asks thousands of
 * times. The same answer as replay() (every choice enabled where it is
 * taken, the violation at the last step or at the end state, none before).
 */
export class Reproducer {
  private readonly m: Machine;
  private readonly init: Int32Array;
  private readonly lo: number;
  private readonly hi: number;
  private readonly enabled: number[] = [];

  constructor(p: Program) {
    this.m = new Machine(p);
    this.init = this.m.initial().slice();
    this.lo = this.m.hLo;
    this.hi = this.m.hHi;
  }

  /** The kind of violation `choices` replays to, or null (none, a choice not enabled, a violation too early, a loop bound). */
  kindOf(choices: readonly number[]): ViolationKind | null {
    const m = this.m;
    const s = m.s;
    s.set(this.init);
    m.hLo = this.lo;
    m.hHi = this.hi;
    m.logLen = 0;
    const en = this.enabled;
    for (let i = 0; i < choices.length; i++) {
      m.enabledInto(en);
      if (!en.includes(choices[i]!)) return null;
      m.stepInPlace(choices[i]!);
      m.logLen = 0;
      if (s[H_VIOL_KIND] !== 0) return i === choices.length - 1 ? kindOf(s[H_VIOL_KIND]!) : null;
      if (s[H_BOUND_HIT] !== 0) return null;
    }
    m.enabledInto(en);
    return en.length === 0 ? (endViolation(m, s, choices)?.kind ?? null) : null;
  }

  /** Does `choices` replay to a violation of `kind`? */
  reproduces(choices: readonly number[], kind: ViolationKind): boolean {
    return this.kindOf(choices) === kind;
  }
}

/** Does this schedule replay to a violation of `kind`? */
export function reproduces(p: Program, choices: readonly number[], kind: ViolationKind): boolean {
  return new Reproducer(p).reproduces(choices, kind);
}

/** Interrupts, preemptions and other events that are not a CPU running its code. */
export function eventCount(choices: readonly number[]): number {
  return choices.filter((c) => choiceKind(c) !== CHOICE_RUN).length;
}

export function cpuCount(choices: readonly number[]): number {
  return new Set(choices.map(choiceCpu)).size;
}

/** Lexicographic order of two choice lists (then the shorter first). */
export function compareChoices(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Lexicographic: length, then events, then CPUs. Negative if a is better. */
export function compareSchedules(a: readonly number[], b: readonly number[]): number {
  return a.length - b.length || eventCount(a) - eventCount(b) || cpuCount(a) - cpuCount(b);
}

/** ddmin: a 1-minimal sub-list of `choices` that still reproduces `kind`. */
export function minimize(p: Program, choices: readonly number[], kind: ViolationKind): number[] {
  const r = new Reproducer(p);
  const reproduces = (_: Program, candidate: readonly number[], k: ViolationKind): boolean => r.reproduces(candidate, k);
  let current = [...choices];
  if (!reproduces(p, current, kind)) {
    throw new Error('kdefer internal error: the schedule to minimise does not reproduce its violation');
  }
  let n = 2;
  while (current.length >= 2) {
    const chunk = Math.ceil(current.length / n);
    let reduced = false;
    for (let start = 0; start < current.length; start += chunk) {
      // Try the complement of each chunk (removing it).
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
      if (candidate.length > 0 && reproduces(p, candidate, kind)) {
        current = candidate;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(n * 2, current.length);
    }
  }
  // Single removals until none helps (1-minimality), preferring the best by compareSchedules.
  for (let changed = true; changed; ) {
    changed = false;
    let best: number[] | null = null;
    for (let i = 0; i < current.length; i++) {
      const candidate = [...current.slice(0, i), ...current.slice(i + 1)];
      if (reproduces(p, candidate, kind) && (best === null || compareSchedules(candidate, best) < 0)) best = candidate;
    }
    if (best) {
      current = best;
      changed = true;
    }
  }
  return current;
}
