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
import type { ViolationKind } from '../check/violation.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_RUN, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { replay } from './replay.ts';

/** Does this schedule replay to a violation of `kind`? */
export function reproduces(p: Program, choices: readonly number[], kind: ViolationKind): boolean {
  const r = replay(p, choices);
  return r.mismatch === null && r.violation?.kind === kind;
}

/** Interrupts, preemptions and other events that are not a CPU running its code. */
export function eventCount(choices: readonly number[]): number {
  return choices.filter((c) => choiceKind(c) !== CHOICE_RUN).length;
}

export function cpuCount(choices: readonly number[]): number {
  return new Set(choices.map(choiceCpu)).size;
}

/** Lexicographic: length, then events, then CPUs. Negative if a is better. */
export function compareSchedules(a: readonly number[], b: readonly number[]): number {
  return a.length - b.length || eventCount(a) - eventCount(b) || cpuCount(a) - cpuCount(b);
}

/** ddmin: a 1-minimal sub-list of `choices` that still reproduces `kind`. */
export function minimize(p: Program, choices: readonly number[], kind: ViolationKind): number[] {
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
