/**
 * A design's bounds. Read off the compiled design (boundsOf, boundsText):
 * the bounds a verdict holds within, apart from the explorers, so that what
 * only lists them (`kdefer list`) loads the compiler and the kernel model,
 * not the searches. And the design explored within other bounds
 * (withBounds): more CPUs, more interrupts per line, more timer ticks,
 * another preemption model or kernel profile. The design is the same code;
 * only how much of the kernel's freedom the explorer uses changes. Used by
 * the vitest matchers (`expect(design).toBeVerified({ cpus: 3 })`) and
 * usable on its own before `check()`.
 */
import { DEFAULT_MAX_STATES, DEFAULT_RUNS } from '../explore/defaults.ts';
import { profileText, type ProfileName } from '../kernel/flags.ts';
import { MAX_CALLS } from '../kernel/layout.ts';
import { INSN_WIDTH, type Program } from '../kernel/program.ts';
import { opcodeOf } from '../kernel/registry.ts';
import type { Design } from './design.ts';
import { DesignError } from './compile.ts';

/** Bounds to explore a design within, replacing the design's own; anything left out stays as the design says. */
export interface BoundsOverride {
  /** Number of CPUs (the design's `cpus`). Tasks pinned to a CPU beyond it are a DesignError. */
  readonly cpus?: number;
  /** Most arrivals per interrupt line, by line name (each line's `budget`); a line the design lacks is a DesignError. */
  readonly irqs?: Readonly<Record<string, number>>;
  /** Most timer ticks (`options.ticks`). */
  readonly ticks?: number;
  /** Preemption model (`options.preempt`). */
  readonly preempt?: 'none' | 'full';
  /** Kernel profile (`profile`). */
  readonly profile?: ProfileName;
}

/** The keys a BoundsOverride may have, for checking options given at run time. */
export const BOUNDS_OVERRIDE_KEYS = ['cpus', 'irqs', 'ticks', 'preempt', 'profile'] as const;

/** `design` with `bounds` replacing its own; the design itself is not changed. */
export function withBounds(design: Design, bounds: BoundsOverride): Design {
  const lines = new Set((design.irqs ?? []).map((l) => l.name));
  for (const line of Object.keys(bounds.irqs ?? {})) {
    if (!lines.has(line)) {
      throw new DesignError(design.name, 'bounds', `no interrupt line '${line}' (lines: ${[...lines].join(', ') || 'none'})`);
    }
  }
  const options = {
    ...design.options,
    ...(bounds.ticks !== undefined ? { ticks: bounds.ticks } : {}),
    ...(bounds.preempt !== undefined ? { preempt: bounds.preempt } : {}),
  };
  return {
    ...design,
    ...(bounds.cpus !== undefined ? { cpus: bounds.cpus } : {}),
    ...(bounds.profile !== undefined ? { profile: bounds.profile } : {}),
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(design.irqs ? { irqs: design.irqs.map((l) => (bounds.irqs?.[l.name] !== undefined ? { ...l, budget: bounds.irqs[l.name]! } : l)) } : {}),
  };
}

/** What boundsOf reads of a check's options (CheckOptions). */
export interface BoundsOptions {
  readonly explorer?: 'exhaustive' | 'random';
  readonly maxStates?: number;
  readonly runs?: number;
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

export function boundsOf(p: Program, opts: BoundsOptions = {}): Bounds {
  const explorer = opts.explorer ?? 'exhaustive';
  return {
    cpus: p.ncpu,
    profile: p.design.profile ?? 'modern',
    preempt: p.preempt,
    // Device lines only: a vector the kernel raises itself (irq_work) has no budget to bound.
    irqs: Object.fromEntries(p.irqs.filter((l) => l.vector === undefined).map((l) => [l.name, l.budget])),
    ticks: p.ticks,
    loops: Object.fromEntries(p.loops.map((l) => [l.where, l.bound])),
    ...(nestsCallbacks(p) ? { calls: MAX_CALLS } : {}),
    ...(p.design.options?.memoryPressure === true ? { memoryPressure: true as const } : {}),
    ...(explorer === 'exhaustive' ? { maxStates: opts.maxStates ?? DEFAULT_MAX_STATES } : { runs: opts.runs ?? DEFAULT_RUNS }),
  };
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

