/**
 * kdefer's public API: build a design with the kernel-named builders,
 * `check()` it, read the verdict.
 *
 *   import { check, defineDesign, spin_lock, spin_unlock } from 'kdefer';
 */
import type { WaitStep } from './check/deadlock.ts';
import type { ViolationKind } from './check/violation.ts';
import { compile } from './dsl/compile.ts';
import type { Design } from './dsl/design.ts';
import { DEFAULT_MAX_STATES, exhaustive, shortestViolation } from './explore/exhaustive.ts';
import type { SearchResult } from './explore/outcome.ts';
import { DEFAULT_MAX_STEPS, DEFAULT_RUNS, randomSearch } from './explore/random.ts';
import { minimize } from './explore/minimize.ts';
import { ParallelismMeter } from './explore/parallelism.ts';
import { labelsOf, replay as replaySchedule } from './explore/replay.ts';
import type { CounterexampleFile } from './explore/counterexample.ts';
import { INSN_WIDTH, type Program } from './kernel/program.ts';
import { MAX_CALLS } from './kernel/layout.ts';
import { PROFILES, profileText, type KernelFlags } from './kernel/flags.ts';
import { opcodeOf } from './kernel/registry.ts';

export * from './dsl/design.ts';
export * from './dsl/tasklet.ts';
export * from './dsl/bh.ts';
export * from './dsl/timer.ts';
export * from './dsl/workqueue.ts';
export { compile, DesignError, fingerprintOf } from './dsl/compile.ts';
export { withBounds, type BoundsOverride } from './dsl/bounds.ts';
export { VIOLATION_KINDS, type ViolationKind } from './check/violation.ts';
export type { KernelFlags, KernelProfile, ProfileName } from './kernel/flags.ts';
export { PROFILE_INFO, PROFILES, profileText } from './kernel/flags.ts';
export { Machine } from './kernel/machine.ts';
export type { Program } from './kernel/program.ts';
export { exhaustive } from './explore/exhaustive.ts';
export { randomSearch } from './explore/random.ts';
export { replay } from './explore/replay.ts';

export interface CheckOptions {
  /** `exhaustive` (default) proves within bounds; `random` samples schedules. */
  readonly explorer?: 'exhaustive' | 'random';
  readonly maxStates?: number;
  readonly runs?: number;
  readonly seed?: number;
  readonly maxSteps?: number;
  /** Delta-debug the violating schedule down to a 1-minimal one (default true). */
  readonly minimize?: boolean;
}

/** The bounds a verdict holds within. */
export interface Bounds {
  readonly cpus: number;
  readonly profile: string;
  readonly preempt: 'none' | 'full';
  /** Most arrivals per interrupt line. */
  readonly irqs: Readonly<Record<string, number>>;
  /** Most timer ticks: how far jiffies may advance (options.ticks). */
  readonly ticks: number;
  /** Most iterations per bounded loop, by position. */
  readonly loops: Readonly<Record<string, number>>;
  /**
   * Most nested callback calls in one context (MAX_CALLS), for a design
   * that can nest deeper than the mechanisms do by themselves (a task-queue
   * routine running run_task_queue); absent where it cannot bind.
   */
  readonly calls?: number;
  /** options.memoryPressure: creating a kworker may fail (only rescuers then serve WQ_MEM_RECLAIM items); absent otherwise. */
  readonly memoryPressure?: true;
  readonly maxStates?: number;
  readonly runs?: number;
}

export interface VerdictViolation {
  readonly kind: ViolationKind;
  readonly message: string;
  readonly cpu: number;
  readonly context: string;
  /** The schedule: replay it with `replay(program, choices)`. */
  readonly choices: readonly number[];
  /** Each choice's label, e.g. `cpu0 [task writer]: spin_lock(&A)`. */
  readonly trace: readonly string[];
  readonly cycle?: readonly WaitStep[];
  /** Length of the schedule the explorer found, before minimisation. */
  readonly foundLength: number;
}

export interface Verdict {
  readonly design: string;
  readonly fingerprint: string;
  readonly expected: Design['expected'] | null;
  readonly status: 'verified' | 'violation' | 'bounded-out';
  readonly explorer: 'exhaustive' | 'random';
  /**
   * The kernel the verdict is for: the profile with the releases it stands
   * for, and any flag the design overrides, e.g. `6.6 (6.5–6.8)` or
   * `modern (6.12+), flags taskletWait=spin`.
   */
  readonly kernel: string;
  readonly bounds: Bounds;
  readonly stats: {
    readonly states: number;
    readonly transitions: number;
    readonly ms: number;
    /** Exhaustive only: the most CPUs inside one handler at once in any explored state. */
    readonly parallelism?: number;
  };
  readonly violation: VerdictViolation | null;
  /** Why the verdict is bounded-out, if it is. */
  readonly boundedOut: string | null;
  /** The seed of a random exploration. */
  readonly seed?: number;
}

export function boundsOf(p: Program, opts: CheckOptions = {}): Bounds {
  const explorer = opts.explorer ?? 'exhaustive';
  return {
    cpus: p.ncpu,
    profile: p.design.profile ?? 'modern',
    preempt: p.preempt,
    irqs: Object.fromEntries(p.irqs.map((l) => [l.name, l.budget])),
    ticks: p.ticks,
    loops: Object.fromEntries(p.loops.map((l) => [l.where, l.bound])),
    ...(nestsCallbacks(p) ? { calls: MAX_CALLS } : {}),
    ...(p.design.options?.memoryPressure === true ? { memoryPressure: true as const } : {}),
    ...(explorer === 'exhaustive' ? { maxStates: opts.maxStates ?? DEFAULT_MAX_STATES } : { runs: opts.runs ?? DEFAULT_RUNS }),
  };
}

/** The profile with its releases, and the flags the design sets otherwise than the profile does. */
export function kernelText(p: Program): string {
  const profile = p.design.profile ?? 'modern';
  const base = PROFILES[profile];
  const changed = (Object.keys(p.flags) as (keyof KernelFlags)[]).filter((k) => base && p.flags[k] !== base[k]);
  return `${profileText(profile)}${changed.length > 0 ? `, flags ${changed.map((k) => `${k}=${String(p.flags[k])}`).join(' ')}` : ''}`;
}

/**
 * Whether callback calls can nest past what the mechanisms nest by
 * themselves (at most 3: softirq → HI action → bh_action → a 2.4 timer's
 * function): only a design's run_task_queue, whose routines may run task
 * queues again, can reach MAX_CALLS.
 */
function nestsCallbacks(p: Program): boolean {
  const op = opcodeOf('run_task_queue');
  for (let pc = 0; pc < p.code.length; pc += INSN_WIDTH) if (p.code[pc] === op) return true;
  return false;
}

/** "2 CPUs, ≤1 eth0 interrupt, profile modern (6.12+), preempt none": the profile with the kernel releases it stands for. */
export function boundsText(b: Bounds): string {
  const irqs = Object.entries(b.irqs).map(([n, k]) => `≤${k} ${n} interrupt${k === 1 ? '' : 's'}`);
  const loops = Object.entries(b.loops).map(([w, k]) => `≤${k} iterations at ${w}`);
  const ticks = b.ticks > 0 ? [`≤${b.ticks} timer tick${b.ticks === 1 ? '' : 's'}`] : [];
  const calls = b.calls !== undefined ? [`≤${b.calls} nested callback calls`] : [];
  const pressure = b.memoryPressure ? ['memory pressure'] : [];
  return [`${b.cpus} CPU${b.cpus === 1 ? '' : 's'}`, ...irqs, ...ticks, ...loops, ...calls, `profile ${profileText(b.profile)}`, `preempt ${b.preempt}`, ...pressure].join(', ');
}

/**
 * Check a design: explore its schedules and return the verdict. Throws a
 * DesignError for a malformed design. Never reads `design.expected`.
 */
export function check(design: Design, opts: CheckOptions = {}): Verdict {
  const p = compile(design);
  return checkProgram(p, opts);
}

export function checkProgram(p: Program, opts: CheckOptions = {}): Verdict {
  const explorer = opts.explorer ?? 'exhaustive';
  let result: SearchResult;
  let seed: number | undefined;
  let parallelism: number | undefined;
  if (explorer === 'random') {
    const r = randomSearch(p, { runs: opts.runs ?? DEFAULT_RUNS, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
    seed = r.seed;
    // Sampling proves nothing: without a violation the verdict stays bounded-out.
    result = r.violation ? r : { ...r, status: 'bounded-out', boundedOut: r.boundedOut ?? `random exploration: ${opts.runs ?? DEFAULT_RUNS} schedules found no violation (sampling, not a proof)` };
  } else {
    const meter = new ParallelismMeter(p);
    result = exhaustive(p, { ...(opts.maxStates !== undefined ? { maxStates: opts.maxStates } : {}), observe: (m, s) => meter.observe(m, s) });
    parallelism = meter.value;
  }
  let v = result.violation;
  const foundLength = v?.choices.length ?? 0;
  if (v && opts.minimize !== false) {
    // Keep the kind; the message and cycle are those of the minimal schedule:
    // a shortest one by BFS when the state space allows, else ddmin's 1-minimal one.
    const bfs = explorer === 'exhaustive' ? shortestViolation(p, { kind: v.kind, maxStates: opts.maxStates ?? DEFAULT_MAX_STATES }) : null;
    const shortest = bfs?.violation?.choices ?? minimize(p, v.choices, v.kind);
    const again = replaySchedule(p, shortest).violation;
    if (again) v = again;
  }
  return {
    design: p.design.name,
    fingerprint: p.fingerprint,
    expected: p.design.expected ?? null,
    status: result.status,
    explorer,
    kernel: kernelText(p),
    bounds: boundsOf(p, opts),
    stats: { states: result.stats.states, transitions: result.stats.transitions, ms: result.stats.ms, ...(parallelism !== undefined ? { parallelism } : {}) },
    violation: v
      ? { kind: v.kind, message: v.message, cpu: v.cpu, context: v.context, choices: v.choices, trace: labelsOf(p, v.choices), foundLength, ...(v.cycle ? { cycle: v.cycle } : {}) }
      : null,
    boundedOut: result.boundedOut,
    ...(seed !== undefined ? { seed } : {}),
  };
}

/**
 * The counterexample file of a violation verdict. `module` is the design's
 * module relative to the folder the file will be saved in.
 */
export function counterexampleOf(verdict: Verdict, module: string): CounterexampleFile {
  const v = verdict.violation;
  if (!v) throw new Error(`kdefer internal error: design '${verdict.design}' has no violation to save`);
  return {
    format: 'kdefer-counterexample',
    version: 1,
    design: { module, name: verdict.design, fingerprint: verdict.fingerprint },
    profile: verdict.bounds.profile,
    bounds: { ...verdict.bounds },
    schedule: v.choices.map((choice, i) => ({ choice, label: v.trace[i]! })),
    violation: { kind: v.kind, message: v.message },
    found: verdict.explorer === 'random' ? { explorer: 'random', seed: verdict.seed!, runs: verdict.bounds.runs! } : { explorer: 'exhaustive' },
    minimizedFrom: v.foundLength,
  };
}

export {
  checkChoicesInRange, CounterexampleError, findDesign, formatCounterexample, parseCounterexample, replayCounterexample,
  type CounterexampleFile,
} from './explore/counterexample.ts';
export { safeStem, saveCounterexample, storeCounterexample, storedFor, type StoreOutcome } from './explore/store.ts';
export { minimize } from './explore/minimize.ts';
export { scheduleHtml, type PictureOptions, type PictureViolation } from './report/html.ts';
export { shortestViolation };
