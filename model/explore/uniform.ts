/**
 * The uniform strategy: a run is a list of numbers. The first sets how often
 * the schedule lets an event (an interrupt, a tick, a preemption, a
 * migration, a timeout) happen when a CPU could also just run its next
 * step: always, or one time in 4, 16 or 64. Events come early when taken
 * uniformly, so bugs that need an interrupt deep inside a long chain (a
 * kworker holding a lock after a tasklet and a timer ran) need the rarer
 * settings. Each further number picks among the choices allowed at its step
 * (modulo their count); when the list runs out the schedule continues with
 * the first enabled choice, so a short list still describes a whole
 * execution, and fast-check shrinks it towards "run everything in order".
 */
import type * as fc from 'fast-check';
import { fastCheck } from './fast-check.ts';
import type { Machine } from '../kernel/machine.ts';
import { CHOICE_RUN, choiceKind } from '../kernel/semantics.ts';
import { executeRun, type Chooser, type RunRecord } from './random-run.ts';

/** Out of 64: how often an event may be picked, by the list's first number (mod 4). */
export const EVENT_ODDS = [64, 16, 4, 1] as const;

/** Numbers a uniform plan holds at most: one per step for the first steps. */
export const PICKS_LENGTH = 256;

/** The arbitrary of uniform plans. */
export function picksArbitrary(maxSteps: number): fc.Arbitrary<number[]> {
  return fastCheck().array(fastCheck().nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, PICKS_LENGTH), size: 'max' });
}

/**
 * Pick among `pool` with one number of a plan: with run choices and events
 * both enabled, an event is allowed only `odds` times in 64 (bits 10..15 of
 * the number decide), then the low bits pick.
 */
export function pickWithOdds(en: readonly number[], pick: number, odds: number, runs: number[]): number {
  runs.length = 0;
  for (const c of en) if (choiceKind(c) === CHOICE_RUN) runs.push(c);
  const pool = runs.length > 0 && runs.length < en.length && ((pick >>> 10) & 63) >= odds ? runs : en;
  return pool[pick % pool.length]!;
}

/** The chooser of a uniform plan. */
export function uniformChooser(picks: readonly number[]): Chooser {
  const odds = EVENT_ODDS[(picks[0] ?? 0) % EVENT_ODDS.length]!;
  const runs: number[] = [];
  return {
    choose(_m, _s, en, step) {
      return step + 1 < picks.length ? pickWithOdds(en, picks[step + 1]!, odds, runs) : en[0]!;
    },
  };
}

/** Execute the schedule a uniform plan describes. */
export function runPicks(m: Machine, picks: readonly number[], maxSteps: number): RunRecord {
  return executeRun(m, uniformChooser(picks), maxSteps);
}
