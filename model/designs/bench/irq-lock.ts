/**
 * irq_lock: the SPIN reference scenario of ../shared/bench/spin/irq_lock.pml
 * as a kdefer design. N CPUs each run a task that K times takes spinlock L
 * and bumps a shared counter with a racy load/store; each CPU takes up to K
 * hardirqs whose handler bumps another counter under L.
 *
 * BUGGY: the task takes L with spin_lock, irqs on: a hardirq on its CPU
 * spins on L forever (B1; pan: "invalid end state"). FIXED: the task uses
 * spin_lock_irqsave/spin_unlock_irqrestore.
 *
 * Differences from the Promela model, read line by line against
 * irq_lock.pml (README "Performance" repeats them):
 *  - interrupts: each CPU's come from its own line (`irq<c>`, affine to CPU
 *    c, budget K), since a kdefer line is one source; pan gives each CPU a
 *    budget of IRQS = K. The same arrivals, at the same points (every
 *    instruction boundary with irqs on, also while a context spins);
 *  - end states: kdefer's is a state where nothing can run, so every line
 *    has used its budget (an idle CPU with irqs on can always take the
 *    next interrupt); pan's CPU may `break` with interrupts left. So the
 *    handler check is icnt == N·K, where pan checks icnt == Σ nirq, and
 *    the final checks are made in fewer end states (every prefix is still
 *    explored: an assertion or deadlock on the way is found either way);
 *  - step granularity: spin_lock_irqsave is one step when L is free (irqs
 *    off and the test-and-set; pan: P_SAVE then P_LOCK), and when L is
 *    busy a step that turns irqs off and starts spinning, then the
 *    acquisition; spin_unlock_irqrestore is one step (pan: P_UNLOCK then
 *    P_RESTORE); the handler's spin_unlock and its return (iret) are two
 *    steps (pan: one d_step); the task ends with a `return` step; pan's
 *    CPU ends with a `ndone++` step and final_check's steps;
 *  - lock ownership is the model's own (a context holds L; an unlock by
 *    another is lock-misuse), so pan's `assert(L == me+1)` is implicit,
 *    and pan's final `assert(L == 0)` is kdefer's lock-leak check;
 *  - a deadlock is reported with its wait-for cycle (AA: the handler spins
 *    on L held by the task it interrupted), in a state where nothing can
 *    run, as pan's "invalid end state";
 *  - the task's loop is `repeat(K)`, unrolled, where pan keeps a counter i.
 */
import {
  add, assign, defineDesign, eq, load, per_cpu, r, repeat, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore,
  v, type Design, type Expr, type Stmt,
} from '../../dsl/design.ts';

/** The bench's parameters: CPUs, iterations per task (and irqs per CPU), and which variant. */
export interface BenchParams {
  readonly cpus: number;
  readonly k: number;
  readonly buggy: boolean;
}

/** Σ per_cpu(name, c) over the design's CPUs. */
export const perCpuSum = (name: string, cpus: number): Expr =>
  Array.from({ length: cpus }, (_, c) => per_cpu(name, c) as Expr).reduce((acc, e) => add(acc, e));

/** The name of a bench design: `bench-irq_lock-buggy-n2-k2`. */
export const benchName = (scenario: string, { cpus, k, buggy }: BenchParams): string => `bench-${scenario}-${buggy ? 'buggy' : 'fixed'}-n${cpus}-k${k}`;

export function irqLockDesign({ cpus, k, buggy }: BenchParams): Design {
  const critical: Stmt[] = [load('t', v('cnt')), assign('cnt', add(r('t'), 1))];
  const body = buggy
    ? [spin_lock('L'), ...critical, spin_unlock('L')]
    : [spin_lock_irqsave('L', 'flags'), ...critical, spin_unlock_irqrestore('L', 'flags')];
  return defineDesign({
    name: benchName('irq_lock', { cpus, k, buggy }),
    description:
      `SPIN reference scenario irq_lock (${cpus} CPUs, K=${k}): each CPU's task takes L ${k} times around a racy counter update; ` +
      `each CPU takes up to ${k} hardirqs whose handler updates another counter under L. ` +
      (buggy ? 'The task uses spin_lock with irqs on: B1, a handler spins on L held by the task it interrupted.' : 'The task uses spin_lock_irqsave, the fix for B1.'),
    cpus,
    locks: { L: 'spinlock' },
    vars: { cnt: 0, icnt: 0 },
    tasks: Array.from({ length: cpus }, (_, c) => ({ name: `thread${c}`, cpu: c, body: [repeat(k, body)] })),
    irqs: Array.from({ length: cpus }, (_, c) => ({
      name: `irq${c}`,
      cpus: [c],
      budget: k,
      handler: [spin_lock('L'), load('h', v('icnt')), assign('icnt', add(r('h'), 1)), spin_unlock('L')],
    })),
    invariants: [
      { name: 'no lost update in process context', holds: eq(v('cnt'), cpus * k), when: 'at-end' },
      // Every end state has every line's budget used (see the header), so the handler ran N·K times.
      { name: 'no lost update in the handler', holds: eq(v('icnt'), cpus * k), when: 'at-end' },
    ],
    expected: buggy ? 'deadlock' : 'verified',
    twin: benchName('irq_lock', { cpus, k, buggy: !buggy }),
  });
}
