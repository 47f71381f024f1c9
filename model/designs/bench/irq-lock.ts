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
 * Differences from the Promela model (README "Performance" lists them all):
 *  - each CPU's interrupts come from its own line (`irq<c>`, affine to CPU
 *    c, budget K), since a kdefer line never runs on two CPUs at once;
 *  - the end-state check counts the handler's runs with a per-CPU ghost
 *    counter bumped in the handler, where pan sums `nirq` at exit;
 *  - lock ownership is the model's own (a context holds L), so pan's
 *    `assert(L == me+1)` is implicit;
 *  - the task's loop is `repeat(K)`, unrolled, where pan keeps a counter.
 */
import {
  add, assign, defineDesign, eq, load, per_cpu, r, repeat, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore,
  this_cpu_inc, v, type Design, type Expr, type Stmt,
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

export function irqLockDesign({ cpus, k, buggy }: BenchParams): Design {
  const critical: Stmt[] = [load('t', v('cnt')), assign('cnt', add(r('t'), 1))];
  const body = buggy
    ? [spin_lock('L'), ...critical, spin_unlock('L')]
    : [spin_lock_irqsave('L', 'flags'), ...critical, spin_unlock_irqrestore('L', 'flags')];
  return defineDesign({
    name: `bench-irq_lock-${buggy ? 'buggy' : 'fixed'}-n${cpus}-k${k}`,
    description:
      `SPIN reference scenario irq_lock (${cpus} CPUs, K=${k}): each CPU's task takes L ${k} times around a racy counter update; ` +
      `each CPU takes up to ${k} hardirqs whose handler updates another counter under L. ` +
      (buggy ? 'The task uses spin_lock with irqs on: B1, a handler spins on L held by the task it interrupted.' : 'The task uses spin_lock_irqsave.'),
    cpus,
    locks: { L: 'spinlock' },
    vars: { cnt: 0, icnt: 0 },
    percpu: { nirq: 0 },
    tasks: Array.from({ length: cpus }, (_, c) => ({ name: `thread${c}`, cpu: c, body: [repeat(k, body)] })),
    irqs: Array.from({ length: cpus }, (_, c) => ({
      name: `irq${c}`,
      cpus: [c],
      budget: k,
      handler: [spin_lock('L'), load('h', v('icnt')), assign('icnt', add(r('h'), 1)), this_cpu_inc('nirq'), spin_unlock('L')],
    })),
    invariants: [
      { name: 'no lost update in process context', holds: eq(v('cnt'), cpus * k), when: 'at-end' },
      { name: 'no lost update in the handler', holds: eq(v('icnt'), perCpuSum('nirq', cpus)), when: 'at-end' },
    ],
    expected: buggy ? 'deadlock' : 'verified',
  });
}
