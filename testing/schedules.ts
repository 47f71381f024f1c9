/**
 * Properties over schedules, for a kernel developer's own vitest suite:
 * `schedules(design)` is a fast-check arbitrary of whole executions of the
 * design, and `scheduleProp(name, design, property)` is a vitest test
 * (through @fast-check/vitest's test.prop) that the property holds in
 * every sampled one. A failing property is shrunk to a short schedule and
 * reported with its labelled steps.
 *
 *   scheduleProp('every eth0 interrupt is counted', ethStats, (run) =>
 *     !run.finished || run.vars['priv->rx_packets'] === run.count('eth0 interrupt arrives'));
 *
 * A schedule is drawn as a list of numbers: each picks among the choices
 * enabled at its step (modulo their count), in the model's canonical order;
 * when the list runs out, the execution goes on with the first enabled
 * choice each step, so every list describes a whole execution (to its end,
 * its violation, a loop bound or maxSteps). Shrinking the list shortens
 * the schedule's free decisions toward the canonical ones. This samples; it
 * proves nothing: `toBeVerified` is the proof.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type { test as FastCheckTest } from '@fast-check/vitest';
import { compile, Machine, replay, withBounds, type BoundsOverride, type Design, type Program, type ViolationKind } from '../model/index.ts';
import { boundHit, stepViolation } from '../model/explore/outcome.ts';

/** Longest execution a sampled schedule follows (a livelock ends there, unfinished). */
export const DEFAULT_SCHEDULE_STEPS = 1000;

/** One execution of a design, as a property sees it. */
export interface ScheduleRun {
  readonly design: string;
  /** The choices taken, replayable with `replay(compile(design), choices)`. */
  readonly choices: readonly number[];
  /** Each step's label: `cpu0 [task ethtool]: spin_lock(&priv->lock)`, `cpu0: eth0 interrupt arrives`. */
  readonly trace: readonly string[];
  /** The violation the execution ends in, if any. */
  readonly violation: { readonly kind: ViolationKind; readonly message: string } | null;
  /** Why the execution stopped at a bound (a loop's bound, maxSteps), if it did. */
  readonly boundedOut: string | null;
  /** Every context ran to its end: no step is left to take and nothing went wrong. */
  readonly finished: boolean;
  /** Each design variable's value at the end. */
  readonly vars: Readonly<Record<string, number>>;
  /** Each per-CPU variable's values at the end, by CPU. */
  readonly percpu: Readonly<Record<string, readonly number[]>>;
  /** How many steps' labels contain `text`. */
  count(text: string): number;
}

/** Options of a schedule arbitrary. */
export interface ScheduleOptions {
  /** Explore within these bounds instead of the design's own (see withBounds). */
  readonly bounds?: BoundsOverride;
  /** Longest execution followed (default DEFAULT_SCHEDULE_STEPS). */
  readonly maxSteps?: number;
}

/** Follow `picks` through the program from its initial state. */
function execute(p: Program, m: Machine, picks: readonly number[], maxSteps: number): ScheduleRun {
  let s = m.initial();
  const choices: number[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const enabled = m.enabled(s);
    if (enabled.length === 0) break;
    const choice = i < picks.length ? enabled[picks[i]! % enabled.length]! : enabled[0]!;
    choices.push(choice);
    s = m.step(s, choice);
    // replay() below finds the violation or bound again, with its report; here they only end the walk.
    if (stepViolation(m, s, choices) || boundHit(s) >= 0) break;
  }
  const r = replay(p, choices);
  const over = choices.length >= maxSteps && !r.violation && !r.boundedOut && m.enabled(r.final).length > 0;
  const vars = Object.fromEntries(p.vars.map((name, i) => [name, r.final[m.L.varBase + i]!]));
  const percpu = Object.fromEntries(p.percpu.map((name, i) => [name, Array.from({ length: p.ncpu }, (_, cpu) => r.final[m.L.percpuBase + i * p.ncpu + cpu]!)]));
  const trace = r.steps.map((st) => st.label);
  const run: ScheduleRun = {
    design: p.design.name,
    choices,
    trace,
    violation: r.violation ? { kind: r.violation.kind, message: r.violation.message } : null,
    boundedOut: r.boundedOut ?? (over ? `the schedule ran past ${maxSteps} steps` : null),
    finished: !r.violation && !r.boundedOut && !over,
    vars,
    percpu,
    count: (text) => trace.filter((l) => l.includes(text)).length,
  };
  // fast-check prints a counterexample with this: the labelled schedule, as kdefer check does.
  Object.defineProperty(run, fc.toStringMethod, { enumerable: false, value: () => scheduleText(run) });
  return run;
}

/** The schedule, one labelled step a line, and how it ended. */
export function scheduleText(run: ScheduleRun): string {
  const digits = String(run.trace.length).length;
  const end = run.violation ? `${run.violation.kind}: ${run.violation.message.split('\n')[0]}`
    : run.boundedOut ? `bounded-out: ${run.boundedOut}` : 'finished';
  return [
    `schedule of '${run.design}', ${run.trace.length} step${run.trace.length === 1 ? '' : 's'} (${end}):`,
    ...run.trace.map((label, i) => `  ${String(i + 1).padStart(digits + 2)}  ${label}`),
    `  vars at the end: ${JSON.stringify(run.vars)}`,
  ].join('\n');
}

/** A fast-check arbitrary of whole executions of `design`. */
export function schedules(design: Design, options: ScheduleOptions = {}): fc.Arbitrary<ScheduleRun> {
  const p = compile(options.bounds ? withBounds(design, options.bounds) : design);
  const m = new Machine(p);
  const maxSteps = options.maxSteps ?? DEFAULT_SCHEDULE_STEPS;
  return fc.array(fc.nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, 256) }).map((picks) => execute(p, m, picks, maxSteps));
}

/** fast-check's run parameters (numRuns, seed, …) plus the schedule options. */
export type SchedulePropOptions = ScheduleOptions & fc.Parameters<[ScheduleRun]>;

let fastCheckTest: typeof FastCheckTest | null = null;

/**
 * @fast-check/vitest's `test`, loaded on the first scheduleProp: importing
 * it costs seconds of CPU (it builds its test API eagerly), which a test
 * file using only the matchers should not pay. It is an ES module, loaded
 * synchronously here (require of an ES module: Node.js 20.19 and later) so
 * that scheduleProp registers its test while the file is being collected.
 */
function fastCheckVitest(): typeof FastCheckTest {
  if (fastCheckTest) return fastCheckTest;
  if (!process.features.require_module) {
    throw new Error(`scheduleProp needs Node.js 20.19 or later (this is ${process.version}): it loads @fast-check/vitest with require(); ` +
      'on an older Node.js, write fc.assert(fc.property(schedules(design), property)) inside a vitest test');
  }
  fastCheckTest = (createRequire(import.meta.url)('@fast-check/vitest') as { test: typeof FastCheckTest }).test;
  return fastCheckTest;
}

/**
 * A vitest test, through @fast-check/vitest's test.prop: `property` holds in
 * every sampled execution of `design` (it returns true or nothing, and does
 * not throw; `expect` inside works). The failure report is fast-check's,
 * with the shrunk schedule, labelled step by step.
 */
export function scheduleProp(
  name: string,
  design: Design,
  property: (run: ScheduleRun) => boolean | void,
  options: SchedulePropOptions = {},
): void {
  const { bounds, maxSteps, ...params } = options;
  const arbitrary = schedules(design, { ...(bounds ? { bounds } : {}), ...(maxSteps !== undefined ? { maxSteps } : {}) });
  fastCheckVitest().prop([arbitrary], params)(name, (run) => property(run));
}
