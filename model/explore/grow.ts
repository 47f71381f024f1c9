/**
 * Growing a design's bounds: how far does a proof reach? `verified` holds
 * within the bounds a design states (CPUs, interrupt budgets, ticks, loop
 * bounds, preemption). `growVariants` makes, from a design, the designs
 * with one bound raised at a time, by 1 up to `steps`; `kdefer check
 * --grow N` checks each and reports every verdict that flips.
 *
 * Pure functions, design → designs; nothing here explores.
 *
 * The bounds, and how each is raised (a bound already at its limit, or one
 * the design does not have, gives no variant):
 *
 * - `cpus`: one more CPU per step (at most MAX_CPUS). Only tasks marked
 *   `replicable: true` are copied, one copy per added CPU, named
 *   `<name>#2`, `<name>#3`… (the original is the first); a task the design
 *   has once (a remover, an owner that frees) is never copied, so an added
 *   CPU without a copy still brings its own interrupts, softirqs, kworkers
 *   and ksoftirqd. The rules for what refers to CPUs:
 *     - a copy runs on the added CPU. If the original may run on every CPU
 *       of the design (`allowed` lists them all), the copy and the original
 *       may run on every CPU of the grown design; otherwise the copy is
 *       pinned to its CPU (as the original is to its own);
 *     - an interrupt line without `cpus` reaches every CPU, the added one
 *       too; one whose `cpus` lists every CPU of the design is extended to
 *       the added CPU; one affine to a subset (eth0 on cpu0: NAPI) keeps it;
 *     - per-CPU variables get a copy on the added CPU, with the declared
 *       initial value (the layout is per CPU); `per_cpu_sum(x)` adds it in;
 *     - explicit CPU numbers in statements and invariants (`per_cpu(x, 0)`,
 *       `queue_work_on(1, …)`, `add_timer_on`) keep their CPU: they name
 *       that CPU, not "the other one";
 *     - invariants are unchanged: an invariant that enumerates CPUs
 *       (`per_cpu(x, 0) + per_cpu(x, 1)`) is bound-dependent, and
 *       `per_cpu_sum` is the way to write it;
 * - `irq <line>`: the line's budget (most arrivals), +1 per step (at most MAX_BUDGET);
 * - `ticks`: how far jiffies may advance (`options.ticks`, default 2 with
 *   timers, else 0), +1 per step (at most MAX_BUDGET). A tick is a timer
 *   interrupt on cpu0 even without timers: it brings an irq_exit where
 *   softirqs run;
 * - `loops`: every `while_` bound at once, +1 per step (at most
 *   MAX_LOOP_BOUND). A verified design reaches no loop bound (reaching one
 *   is bounded-out), so this one confirms rather than explores;
 * - `preempt`: `none` → `full` (CONFIG_PREEMPT), one step only; not under
 *   the 2.4 profile, whose kernels had no kernel preemption (CONFIG_PREEMPT
 *   came in 2.5.4).
 */
import { DEFAULT_TICKS } from '../dsl/timer.ts';
import { MAX_BUDGET, MAX_CPUS, MAX_LOOP_BOUND } from '../dsl/compile.ts';
import { irqBound } from '../dsl/strict.ts';
import type { Verdict } from '../index.ts';
import type { Assumption, Design, EitherStmt, IfStmt, IrqSpec, RepeatStmt, Stmt, TaskSpec, WhileStmt } from '../dsl/design.ts';

/** One design with one bound raised. */
export interface GrowVariant {
  /** The bound raised: `cpus`, `irq <line>`, `ticks`, `loops` or `preempt`. */
  readonly bound: string;
  /** Its value in the design (for `loops`, the largest loop bound). */
  readonly from: number | string;
  /** Its value in the variant. */
  readonly to: number | string;
  /** How far above the design's own bound: 1 to `steps`. */
  readonly step: number;
  readonly design: Design;
}

/** The name of the k-th copy of a replicable task (the original is the first). */
export const copyName = (task: string, k: number): string => `${task}#${k + 1}`;

/**
 * Every variant of `design` with one bound raised by 1 to `steps`, bound by
 * bound (cpus, each interrupt line in order, ticks, loops, preempt), each
 * bound's steps in increasing order.
 */
export function growVariants(design: Design, steps = 1): GrowVariant[] {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`grow: steps must be a whole number ≥ 1, got ${steps}`);
  const out: GrowVariant[] = [];
  for (let k = 1; k <= steps && design.cpus + k <= MAX_CPUS; k++) {
    out.push({ bound: 'cpus', from: design.cpus, to: design.cpus + k, step: k, design: withCpus(design, k) });
  }
  for (const line of design.irqs ?? []) {
    const budget = line.budget ?? 1;
    for (let k = 1; k <= steps && budget + k <= MAX_BUDGET; k++) {
      out.push({ bound: irqBound(line.name), from: budget, to: budget + k, step: k, design: withIrqBudget(design, line.name, budget + k) });
    }
  }
  const ticks = ticksOf(design);
  for (let k = 1; k <= steps && ticks + k <= MAX_BUDGET; k++) {
    out.push({ bound: 'ticks', from: ticks, to: ticks + k, step: k, design: { ...design, options: { ...design.options, ticks: ticks + k } } });
  }
  const loops = largestLoopBound(design);
  if (loops > 0) {
    for (let k = 1; k <= steps && maxOverAll(design, (b) => b + k) <= MAX_LOOP_BOUND; k++) {
      out.push({ bound: 'loops', from: loops, to: loops + k, step: k, design: withLoops(design, (b) => b + k) });
    }
  }
  if ((design.options?.preempt ?? 'none') === 'none' && design.profile !== '2.4') {
    out.push({ bound: 'preempt', from: 'none', to: 'full', step: 1, design: { ...design, options: { ...design.options, preempt: 'full' } } });
  }
  return out;
}

/** The tick budget the compiler gives the design (options.ticks, or the default). */
export function ticksOf(design: Design): number {
  return design.options?.ticks ?? (Object.keys(design.timers ?? {}).length > 0 ? DEFAULT_TICKS : 0);
}

const allCpus = (n: number): number[] => [...Array(n).keys()];
/** Whether `cpus` lists every CPU 0..n-1. */
const coversAll = (cpus: readonly number[], n: number): boolean => allCpus(n).every((c) => cpus.includes(c));

/** The design with `k` more CPUs and a copy of each replicable task per added CPU (see the rules above). */
export function withCpus(design: Design, k: number): Design {
  const n = design.cpus;
  const grown = n + k;
  const roams = (t: TaskSpec) => t.allowed !== undefined && coversAll(t.allowed, n);
  const tasks: TaskSpec[] = design.tasks.map((t) => (roams(t) ? { ...t, allowed: allCpus(grown) } : t));
  const names = new Set(design.tasks.map((t) => t.name));
  for (let i = 1; i <= k; i++) {
    const cpu = n + i - 1;
    for (const t of design.tasks) {
      if (t.replicable !== true) continue;
      const name = copyName(t.name, i);
      if (names.has(name)) throw new Error(`grow: cannot copy task '${t.name}' onto cpu${cpu}: the design already has a task named '${name}'`);
      names.add(name);
      const { allowed: _a, ...rest } = t;
      tasks.push({ ...rest, name, cpu, ...(roams(t) ? { allowed: allCpus(grown) } : {}) });
    }
  }
  const irqs = design.irqs?.map((l): IrqSpec => (l.cpus !== undefined && coversAll(l.cpus, n) ? { ...l, cpus: allCpus(grown) } : l));
  return { ...design, cpus: grown, tasks, ...(irqs ? { irqs } : {}) };
}

/** The design with interrupt line `line`'s budget set to `budget`. */
export function withIrqBudget(design: Design, line: string, budget: number): Design {
  return { ...design, irqs: (design.irqs ?? []).map((l) => (l.name === line ? { ...l, budget } : l)) };
}

/** Every statement list of the design: task bodies, handlers and irq threads, softirq handlers, functions. */
function mapBodies(design: Design, f: (body: readonly Stmt[]) => readonly Stmt[]): Design {
  const mapRecord = <T extends Readonly<Record<string, readonly Stmt[] | undefined>>>(r: T | undefined): T | undefined =>
    r === undefined ? undefined : (Object.fromEntries(Object.entries(r).map(([key, body]) => [key, body === undefined ? body : f(body)])) as T);
  return {
    ...design,
    tasks: design.tasks.map((t) => ({ ...t, body: f(t.body) })),
    ...(design.irqs
      ? { irqs: design.irqs.map((l) => ({ ...l, ...(l.handler ? { handler: f(l.handler) } : {}), ...(l.thread ? { thread: f(l.thread) } : {}) })) }
      : {}),
    ...(design.softirqs ? { softirqs: mapRecord(design.softirqs) } : {}),
    ...(design.functions ? { functions: mapRecord(design.functions) } : {}),
  };
}

/** `body` with every while loop's bound replaced by `bound(old)`, at any depth. */
function mapLoops(body: readonly Stmt[], bound: (b: number) => number): Stmt[] {
  return body.map((st): Stmt => {
    switch (st.op) {
      case 'while': {
        const w = st as WhileStmt;
        return { ...w, bound: w.bound === 'none' ? 'none' : bound(w.bound), body: mapLoops(w.body, bound) };
      }
      case 'if': {
        const i = st as IfStmt;
        return { ...i, then: mapLoops(i.then, bound), else: mapLoops(i.else, bound) };
      }
      case 'repeat': {
        const r = st as RepeatStmt;
        return { ...r, body: mapLoops(r.body, bound) };
      }
      case 'either': {
        const e = st as EitherStmt;
        return { ...e, branches: e.branches.map((b) => mapLoops(b, bound)) };
      }
      default:
        return st;
    }
  });
}

/** The design with every while loop's bound replaced by `bound(old)`. */
export function withLoops(design: Design, bound: (b: number) => number): Design {
  return mapBodies(design, (body) => mapLoops(body, bound));
}

/** The largest of `f(bound)` over the design's while loops (0 without loops). */
function maxOverAll(design: Design, f: (b: number) => number): number {
  let most = 0;
  withLoops(design, (b) => {
    most = Math.max(most, f(b));
    return b;
  });
  return most;
}

/** The design's largest loop bound, 0 if it has no while loop. */
export function largestLoopBound(design: Design): number {
  return maxOverAll(design, (b) => b);
}

/** What one grown variant's check gave. */
export interface GrowOutcome {
  readonly bound: string;
  readonly from: number | string;
  readonly to: number | string;
  readonly step: number;
  /** The grown design, on which the verdict's schedule replays. */
  readonly variant: Design;
  /** The variant's verdict: `verified` (the proof reaches this far), a violation (a flip), or bounded-out. */
  readonly verdict: Verdict;
  /** The design's assumption on this bound, if it declares one: a flip here is what it assumes away. */
  readonly assumed: Assumption | null;
}

/** A flip the design does not assume away: its verdict changed to a violation. */
export const isUnassumedFlip = (o: GrowOutcome): boolean => o.verdict.status === 'violation' && o.assumed === null;

/**
 * Check every variant of `design` (growVariants) with `check`, bound by
 * bound; once a bound's variant is violated or bounded-out, its larger
 * steps are not checked (they would only repeat it, at a higher cost).
 * `check` is the caller's explorer (e.g. exhaustive with a state cap).
 */
export function growCheck(design: Design, steps: number, check: (variant: Design) => Verdict): GrowOutcome[] {
  const out: GrowOutcome[] = [];
  const stopped = new Set<string>();
  for (const v of growVariants(design, steps)) {
    if (stopped.has(v.bound)) continue;
    const verdict = check(v.design);
    if (verdict.status !== 'verified') stopped.add(v.bound);
    out.push({ bound: v.bound, from: v.from, to: v.to, step: v.step, variant: v.design, verdict, assumed: design.assumes?.find((a) => a.bound === v.bound) ?? null });
  }
  return out;
}
