/**
 * PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi,
 * Nagarakatte, ASPLOS 2010), on kdefer's choices.
 *
 * A run gives every context a random priority, and picks d − 1 random
 * priority change points. At each step the enabled context with the
 * highest priority takes its step; at the i-th change point (1 ≤ i < d)
 * the context about to run drops to priority i, below every initial
 * priority, and the next one runs. A bug of depth d (one that needs d
 * ordering constraints between steps of different contexts) is then found
 * in one run with probability at least
 *
 *                        1 / (n · k^(d−1))
 *
 * where n is the number of contexts and k the number of steps a run takes
 * (the PCT bound). kdefer counts for k only *branching* steps, where at
 * least two contexts could step (a change point anywhere else has the same
 * effect as one at the next branching step). The bound assumes the run has
 * at most k branching steps, and that no choice inside one context matters
 * (see below); where the bug also needs one of c alternatives inside a
 * context (the right CPU for an interrupt), multiply by 1/c.
 *
 * What a context is in kdefer (a PCT "thread": the unit that has one
 * priority):
 *  - each task, design tasks and kernel threads alike (kworkers, keventd):
 *    its own steps, and the scheduler's choices that favour it: being
 *    scheduled on an idle CPU, preempting the running task, its sleep's
 *    timeout ending;
 *  - each *arrival* of an interrupt line (`eth0 interrupt #1`, `#2`, up to
 *    the line's budget): an arrival is an event of its own in time, so its
 *    priority says when it comes: a high one as soon as the irq flag allows,
 *    a low one only when nothing more urgent can step. (One priority for
 *    the whole line would send its second interrupt right after the first.)
 *    Of the CPUs the line may hit, the plan's numbers pick one;
 *  - the handler of each line (`hardirq eth0`), all its runs: it competes
 *    only with other CPUs, since it sits on top of its own;
 *  - the softirq frame of each CPU (a batch run at irq_exit,
 *    local_bh_enable or do_softirq, with the tasklets, timers and BHs it
 *    runs): `softirq/N`;
 *  - ksoftirqd of each CPU: being scheduled, and the batch it runs;
 *  - each timer tick (`tick #j`, at most one per CPU per jiffy): like an
 *    interrupt arrival;
 *  - any other event source (load balancing, wq_worker_sleeping, a delayed
 *    work's timer, and whatever source the model grows) is an event context
 *    per source and CPU, found when it first offers a choice. An event
 *    context drops to the lowest priority (0) once it fires, so an event
 *    that can fire without end (migration back and forth) cannot starve
 *    the schedule.
 * n counts the design's contexts (event contexts aside). Choices of one
 * context (the CPU an interrupt arrives on, an operation's outcome variants
 * such as __do_softirq giving up early) are picked by the plan's numbers,
 * as the uniform strategy does.
 *
 * k: PCT needs the number of steps of a run before it starts. kdefer
 * measures it: 32 probe runs (half uniform, half PCT without change
 * points, from a fixed seed) give the first k, and between epochs k grows to
 * the most branching steps any completed run of the search has taken (the
 * epoch logic of random.ts keeps this reproducible from the seed).
 */
import type * as fc from 'fast-check';
import { fastCheck } from './fast-check.ts';
import { FrameKind, I_BUDGET, X_ID, X_KIND } from '../kernel/layout.ts';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_SOURCES } from '../kernel/registry.ts';
import { CHOICE_RUN, choiceArg, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { executeRun, type Chooser } from './random-run.ts';
import { mix32, valueOfRun } from './random-stream.ts';
import { picksArbitrary, uniformChooser } from './uniform.ts';

/** Default bug depth: measured on the catalogue (README, random search). */
export const DEFAULT_DEPTH = 5;
/** Deepest depth accepted (the bound is useless beyond it anyway). */
export const MAX_DEPTH = 10;
/** Event contexts a run may discover beyond the design's own. */
const EXTRA_CONTEXTS = 16;
/** Probe runs that measure k. */
const PROBES = 32;
const PROBE_SEED = 0x50c7;

/** What a PCT run of a design works with. */
export interface PctShape {
  /** The design's contexts, by index: `task ioctl`, `irq dev`, `softirq/0`, `ksoftirqd/1`, `tick`. */
  readonly contexts: readonly string[];
  /** Branching steps of the longest probe run: the k of the bound. */
  readonly k: number;
  /** Steps of the longest probe run. */
  readonly steps: number;
}

/** A PCT plan: what fast-check draws (and shrinks) for one run. */
export interface PctPlan {
  /** One per context (and per event context found later): higher runs first. */
  readonly priorities: readonly number[];
  /** d − 1 branching-step indices; change point i lowers the running context to priority i + 1. */
  readonly changes: readonly number[];
  /** Choices inside a context, one number per step. */
  readonly picks: readonly number[];
}

/** The PCT bound: a bug of depth d is found in one run with at least this probability. */
export function pctBound(shape: PctShape, depth: number): number {
  return 1 / (shape.contexts.length * shape.k ** (depth - 1));
}

const sourceNames = CHOICE_SOURCES.map((s) => s.name);
const kindOf = (name: string): number => sourceNames.indexOf(name) + 1;
const K_KSOFTIRQD = kindOf('ksoftirqd');
const K_IRQ = kindOf('irq');
const K_SCHEDULE = kindOf('schedule');
const K_PREEMPT = kindOf('preempt');
const K_TIMEOUT = kindOf('timeout');
const K_TICK = kindOf('tick');

/** Context indexes of one program. */
export class PctContexts {
  readonly names: string[] = [];
  private readonly arrivalBase: number[] = [];
  private readonly handlerBase: number;
  private readonly softirqBase: number;
  private readonly ksoftirqdBase: number;
  private readonly tickBase: number;
  private readonly ticks: number;
  /** The design's own contexts; event contexts follow, found as runs meet them. */
  readonly fixed: number;

  constructor(private readonly p: Program) {
    for (const t of p.tasks) this.names.push(`task ${t.name}`);
    for (const l of p.irqs) {
      this.arrivalBase.push(this.names.length);
      for (let j = 0; j < l.budget; j++) this.names.push(`${l.name} interrupt #${j + 1}`);
    }
    this.handlerBase = this.names.length;
    for (const l of p.irqs) this.names.push(`hardirq ${l.name}`);
    this.softirqBase = this.names.length;
    for (let c = 0; c < p.ncpu; c++) this.names.push(`softirq/${c}`);
    this.ksoftirqdBase = this.names.length;
    for (let c = 0; c < p.ncpu; c++) this.names.push(`ksoftirqd/${c}`);
    this.tickBase = this.names.length;
    // One tick per CPU per jiffy at most (H_TICKED), p.ticks jiffies.
    this.ticks = p.ticks * p.ncpu;
    for (let j = 0; j < this.ticks; j++) this.names.push(`tick #${j + 1}`);
    this.fixed = this.names.length;
  }

  /**
   * The context a choice belongs to, given the ticks taken so far in the
   * run; or -1 - (source kind × 16 + cpu) for an event context (event
   * contexts are numbered per run, in the order met).
   */
  of(m: Machine, choice: number, ticksTaken: number): number {
    const kind = choiceKind(choice);
    const cpu = choiceCpu(choice);
    if (kind === CHOICE_RUN) {
      const ctx = m.top(cpu);
      const o = m.ctxOff(ctx);
      switch (m.s[o + X_KIND]) {
        case FrameKind.Task: return m.s[o + X_ID]!;
        case FrameKind.Hardirq: return this.handlerBase + m.s[o + X_ID]!;
        case FrameKind.Softirq: return this.softirqBase + cpu;
        case FrameKind.Ksoftirqd: return this.ksoftirqdBase + cpu;
        default: throw new Error(`kdefer internal error: cpu${cpu} runs a frame of unknown kind ${m.s[o + X_KIND]}`);
      }
    }
    if (kind === K_IRQ) {
      // The j-th arrival of the line: budget − arrivals left.
      const line = choiceArg(choice);
      return this.arrivalBase[line]! + this.p.irqs[line]!.budget - m.s[m.irqOff(line) + I_BUDGET]!;
    }
    if (kind === K_SCHEDULE || kind === K_PREEMPT || kind === K_TIMEOUT) return choiceArg(choice);
    if (kind === K_KSOFTIRQD) return this.ksoftirqdBase + cpu;
    if (kind === K_TICK && ticksTaken < this.ticks) return this.tickBase + ticksTaken;
    return -1 - (kind * 16 + cpu);
  }

  /** Is `choice` a timer tick (the tick contexts count them)? */
  isTick(choice: number): boolean {
    return choiceKind(choice) === K_TICK;
  }
}

/** Measure a program's PCT shape: its contexts, and k from probe runs (deterministic). */
export function pctShape(p: Program, maxSteps: number): PctShape {
  const m = new Machine(p);
  const ctx = new PctContexts(p);
  const probe = fastCheck().property(picksArbitrary(maxSteps), (_picks: number[]) => true);
  let k = 1;
  let steps = 1;
  for (let i = 0; i < PROBES; i++) {
    // Half uniform schedules, half PCT runs without change points.
    const inner = i % 2 === 0
      ? uniformChooser(valueOfRun(probe, PROBE_SEED, i))
      : pctChooser(ctx, { priorities: ctx.names.map((_, j) => mix32(j * 7919 + i * 104729) >>> 1), changes: [], picks: [] }, 1);
    const counter = new BranchCounter(ctx, inner);
    const run = executeRun(m, counter, maxSteps);
    if (run.boundedOut) continue;
    k = Math.max(k, counter.branches);
    steps = Math.max(steps, run.steps);
  }
  return { contexts: ctx.names.slice(0, ctx.fixed), k, steps };
}

/**
 * Counts the branching steps of a run (steps where two contexts or more
 * could step) around any chooser: k is the most a completed run had.
 */
export class BranchCounter implements Chooser {
  branches = 0;
  private ticks = 0;
  constructor(private readonly ctx: PctContexts, private readonly inner: Chooser) {}
  choose(m: Machine, s: Int32Array, en: readonly number[], step: number): number {
    const first = this.ctx.of(m, en[0]!, this.ticks);
    for (let i = 1; i < en.length; i++) {
      if (this.ctx.of(m, en[i]!, this.ticks) !== first) {
        this.branches++;
        break;
      }
    }
    const c = this.inner.choose(m, s, en, step);
    if (this.ctx.isTick(c)) this.ticks++;
    return c;
  }
}

/** The arbitrary of PCT plans of depth `depth` (unbiased: the bound needs uniform draws). */
export function pctArbitrary(contexts: number, k: number, depth: number, maxSteps: number): fc.Arbitrary<PctPlan> {
  return fastCheck().noBias(fastCheck().record({
    priorities: fastCheck().array(fastCheck().nat(), { minLength: contexts + EXTRA_CONTEXTS, maxLength: contexts + EXTRA_CONTEXTS }),
    changes: fastCheck().array(fastCheck().nat({ max: k - 1 }), { minLength: depth - 1, maxLength: depth - 1 }),
    picks: fastCheck().array(fastCheck().nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, 256), size: 'max' }),
  }));
}

/** The chooser of a PCT plan. */
export function pctChooser(ctx: PctContexts, plan: PctPlan, depth: number): Chooser {
  // Initial priorities are ≥ depth, above every change point's (1 … depth−1); fired events drop to 0.
  const prio = plan.priorities.map((x) => depth + x / 0x80000000);
  const priority = (key: number): number => prio[key] ?? depth;
  const events = new Map<number, number>();
  let branches = 0;
  let ticks = 0;
  const keys: number[] = [];
  const highest = (): number => {
    let best = keys[0]!;
    for (const k of keys) if (priority(k) > priority(best) || (priority(k) === priority(best) && k < best)) best = k;
    return best;
  };
  return {
    choose(m, _s, en, step) {
      keys.length = 0;
      let branching = false;
      for (const c of en) {
        let k = ctx.of(m, c, ticks);
        if (k < 0) {
          let e = events.get(k);
          if (e === undefined) {
            e = ctx.fixed + (events.size % EXTRA_CONTEXTS);
            events.set(k, e);
          }
          k = e;
        }
        if (keys.length > 0 && k !== keys[0]) branching = true;
        keys.push(k);
      }
      if (branching) {
        for (let i = 0; i < plan.changes.length; i++) if (plan.changes[i] === branches) prio[highest()] = i + 1;
        branches++;
      }
      const winner = highest();
      let count = 0;
      for (const k of keys) if (k === winner) count++;
      let nth = count > 1 ? (plan.picks[step] ?? 0) % count : 0;
      let choice = en[0]!;
      for (let i = 0; i < en.length; i++) {
        if (keys[i] === winner && nth-- === 0) {
          choice = en[i]!;
          break;
        }
      }
      if (winner >= ctx.fixed) prio[winner] = 0;
      if (ctx.isTick(choice)) ticks++;
      return choice;
    },
  };
}
