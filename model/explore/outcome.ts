/**
 * What an explorer learns from one state: a violation raised by the step
 * that made it, a loop bound exceeded, or, for a terminal state, whatever
 * check/deadlock.ts finds.
 */
import { terminalViolation, type WaitStep } from '../check/deadlock.ts';
import { kindOf, type ViolationKind } from '../check/violation.ts';
import { H_BOUND_HIT, H_VIOL_CPU, H_VIOL_CTX, H_VIOL_KIND } from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';

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

/** The loop whose bound `s` exceeded, or -1. */
export function boundHit(s: Int32Array): number {
  return s[H_BOUND_HIT]! - 1;
}

export function boundMessage(m: Machine, loop: number): string {
  const l = m.p.loops[loop]!;
  return `a path exceeds the bound of ${l.bound} iterations of the loop at ${l.where}`;
}
