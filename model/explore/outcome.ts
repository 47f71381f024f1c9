/**
 * What an explorer learns from one state: a violation raised by the step
 * that made it, a bound exceeded (a design loop's, or the kernel model's
 * own), or, for a terminal state, whatever check/deadlock.ts finds.
 */
import { terminalViolation, type WaitStep } from '../check/deadlock.ts';
import { kindOf, type ViolationKind } from '../check/violation.ts';
import { H_BOUND_HIT, H_VIOL_CPU, H_VIOL_CTX, H_VIOL_KIND, MAX_CALLS, MODEL_BOUND, ModelBound } from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import { END_BOUNDS } from '../kernel/registry.ts';

/** A violation with the schedule that reaches it. */
export interface Violation {
  readonly kind: ViolationKind;
  /** In the kernel's own wording where one exists. */
  readonly message: string;
  readonly cpu: number;
  readonly context: string;
  /** The choice list that reproduces it from the initial state. */
  readonly choices: readonly number[];
  readonly cycle?: readonly WaitStep[];
}

export interface SearchStats {
  /** States stored (the visited set's size). */
  states: number;
  transitions: number;
  ms: number;
  maxDepth: number;
  /** Exhaustive: states passed through without being stored (forced chains, model/explore/dfs.ts). */
  transient?: number;
  /** Exhaustive: bytes held by the visited set. */
  visitedBytes?: number;
  /** Exhaustive: which reductions ran, and what the partial-order reduction pruned. */
  reductions?: {
    readonly por: boolean;
    readonly fusion: boolean;
    /** The classes of interchangeable CPUs the search renamed, or why there were none. */
    readonly symmetry?: { readonly orbits: readonly (readonly number[])[]; readonly why?: string };
    readonly reducedStates?: number;
    readonly prunedTransitions?: number;
    readonly provisoExpansions?: number;
  };
}

export interface SearchResult {
  readonly status: 'verified' | 'violation' | 'bounded-out';
  readonly violation: Violation | null;
  /** Why the search is bounded-out, if it is. */
  readonly boundedOut: string | null;
  readonly stats: SearchStats;
  /** A shard's result (shard.ts): which shard, and its share of the partition. */
  readonly shard?: import('./shard.ts').ShardInfo;
  /** Bounded-out by a bound that cut the search short (the state limit, the memory bound), not one it explored past. */
  readonly stopped?: true;
}

/** The violation raised by the step that produced `s` (m.message is that step's). */
export function stepViolation(m: Machine, s: Int32Array, choices: readonly number[]): Violation | null {
  const code = s[H_VIOL_KIND]!;
  if (code === 0) return null;
  const ctx = s[H_VIOL_CTX]!;
  m.s = s;
  return {
    kind: kindOf(code),
    message: m.message ?? '(no message)',
    cpu: s[H_VIOL_CPU]!,
    context: ctx >= 0 ? m.contextName(ctx) : '',
    choices: [...choices],
    ...(m.cycle ? { cycle: m.cycle } : {}),
  };
}

/** The violation of a state with no enabled choice, if any. */
export function endViolation(m: Machine, s: Int32Array, choices: readonly number[]): Violation | null {
  const t = terminalViolation(m, s);
  if (!t) return null;
  return { kind: t.kind, message: t.message, cpu: t.cpu, context: t.context, choices: [...choices], ...(t.cycle ? { cycle: t.cycle } : {}) };
}

/**
 * Why the path to `s` was cut, or -1 if it was not: a loop's index (a loop
 * bound of the design, 0 .. loops-1), or a larger value for a bound of the
 * kernel model (MODEL_BOUND + ModelBound - 1). Either way the explorer ends
 * the path and the verdict, unless a violation turns up elsewhere, is
 * bounded-out with boundMessage's text.
 */
export function boundHit(s: Int32Array): number {
  return s[H_BOUND_HIT]! - 1;
}

/** The kernel model's bounds, by ModelBound code: what each is, as the bounds line and a bounded-out verdict name it. */
export const MODEL_BOUNDS: Readonly<Record<number, { readonly name: string; readonly what: string }>> = {
  [ModelBound.CallDepth]: {
    name: `≤${MAX_CALLS} nested callback calls`,
    what: `kdefer keeps ${MAX_CALLS} return slots per context (softirq → tasklet_action → func → a task-queue routine)`,
  },
  [ModelBound.TaskletHog]: {
    name: 'ksoftirqd requeue loop of a disabled tasklet',
    what: "the kernel's run never ends there (T6, a CPU hog); kdefer parks the tasklet instead of following the loop, so it proves nothing past that point",
  },
  [ModelBound.RtFrameSleep]: {
    name: 'PREEMPT_RT softirqs and handlers that sleep on a held spinlock_t',
    what: 'on PREEMPT_RT a softirq runs in a preemptible task (ksoftirqd, or the task at local_bh_enable) that sleeps on a held rt_mutex lock while others run; kdefer runs softirqs as frames on the CPU, which cannot sleep, so it proves nothing past that point',
  },
};

/**
 * For a terminal state with no violation (endViolation gave null): the
 * bound of the kernel model that ends it, as boundMessage words it, or null
 * for a clean end. A run the kernel would go on with for ever (ksoftirqd
 * requeueing a tasklet disabled for good) is not a proof: bounded-out.
 */
export function endBound(m: Machine, s: Int32Array): string | null {
  m.s = s;
  for (const end of END_BOUNDS) {
    const hit = end(m);
    if (hit) return modelBoundText(hit.bound, hit.detail);
  }
  return null;
}

function modelBoundText(model: ModelBound, detail: string | null): string {
  const bound = MODEL_BOUNDS[model];
  if (!bound) throw new Error(`kdefer internal error: unknown kernel model bound ${model}`);
  return `kernel model bound (${bound.name}): ${detail ?? 'a path reaches it'}; ${bound.what}`;
}

/** The ModelBound of a boundHit value, or 0 for a design loop's bound. */
export function modelBoundOf(hit: number): ModelBound | 0 {
  return hit + 1 >= MODEL_BOUND ? ((hit + 1 - MODEL_BOUND) as ModelBound) : 0;
}

/**
 * What bounded the path: a design loop's bound, or a bound of the kernel
 * model (`kernel model bound (…): …`, with what the step that hit it said:
 * call right after that step, while m.message is its).
 */
export function boundMessage(m: Machine, hit: number): string {
  const model = modelBoundOf(hit);
  if (model !== 0) return modelBoundText(model, m.message);
  const l = m.p.loops[hit]!;
  return `a path exceeds the bound of ${l.bound} iterations of the loop at ${l.where}`;
}
