/**
 * Replay: run a choice list from the initial state, checking that each
 * choice is enabled where it is taken (and, if labels are given, that each
 * step still means what it meant). The schedule is data; any state can be
 * rebuilt this way.
 */
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type Violation } from './outcome.ts';

export interface TraceStep {
  readonly choice: number;
  readonly label: string;
}

export interface Replay {
  readonly steps: readonly TraceStep[];
  /** The violation reached, if any (at the last step, or at the end state). */
  readonly violation: Violation | null;
  /** Set if the schedule did not fit the model: the first step that differs. */
  readonly mismatch: { readonly step: number; readonly problem: string } | null;
  readonly boundedOut: string | null;
  /** The state after the last step. */
  readonly final: Int32Array;
}

export function replay(p: Program, choices: readonly number[], labels?: readonly string[]): Replay {
  const m = new Machine(p);
  let s = m.initial();
  const steps: TraceStep[] = [];
  const taken: number[] = [];
  for (let i = 0; i < choices.length; i++) {
    const choice = choices[i]!;
    const en = m.enabled(s);
    if (!en.includes(choice)) {
      const problem = en.length === 0
        ? `choice ${choice} is taken after the schedule has already ended`
        : `choice ${choice} is not enabled here (enabled: ${en.map((c) => `${c} = ${m.label(s, c)}`).join('; ')})`;
      return { steps, violation: null, mismatch: { step: i, problem }, boundedOut: null, final: s };
    }
    const label = m.label(s, choice);
    if (labels && labels[i] !== undefined && labels[i] !== label) {
      return { steps, violation: null, mismatch: { step: i, problem: `expected '${labels[i]}', the model now says '${label}'` }, boundedOut: null, final: s };
    }
    steps.push({ choice, label });
    taken.push(choice);
    s = m.step(s, choice);
    const v = stepViolation(m, s, taken);
    if (v) {
      if (i !== choices.length - 1) {
        return { steps, violation: v, mismatch: { step: i + 1, problem: 'the violation happens before the schedule ends' }, boundedOut: null, final: s };
      }
      return { steps, violation: v, mismatch: null, boundedOut: null, final: s };
    }
    const loop = boundHit(s);
    if (loop >= 0) return { steps, violation: null, mismatch: null, boundedOut: boundMessage(m, loop), final: s };
  }
  const terminal = m.enabled(s).length === 0;
  const violation = terminal ? endViolation(m, s, taken) : null;
  return { steps, violation, mismatch: null, boundedOut: terminal && !violation ? endBound(m, s) : null, final: s };
}

/** Labels of a choice list, for printing. Throws if the list does not replay. */
export function labelsOf(p: Program, choices: readonly number[]): string[] {
  const r = replay(p, choices);
  if (r.mismatch) throw new Error(`kdefer internal error: schedule does not replay at step ${r.mismatch.step}: ${r.mismatch.problem}`);
  return r.steps.map((st) => st.label);
}
