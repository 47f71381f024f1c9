/**
 * softirq_bh: the SPIN reference scenario of ../shared/bench/spin/softirq_bh.pml
 * as a kdefer design. N CPUs each run a task that K times takes spinlock L
 * around a racy counter update; each CPU takes up to IRQS hardirqs (1 in
 * the reference runs) that raise NET_RX, whose handler updates another
 * counter under L. The softirq runs at irq_exit when not in_interrupt(),
 * or at local_bh_enable.
 *
 * BUGGY: the task takes L with spin_lock, bh on: NET_RX run at the irq_exit
 * of an interrupt that hit the task's critical section spins on L (B2).
 * FIXED: spin_lock_bh/spin_unlock_bh.
 *
 * Differences from the Promela model (README "Performance" lists them all):
 *  - ksoftirqd exists: pending softirqs may also be left to it at a run
 *    point, as the kernel may (pan has no ksoftirqd);
 *  - the handler's runs are counted by a per-CPU ghost counter inside the
 *    handler, where pan sums `nsoft` at exit;
 *  - pan's end check `!pending` is kdefer's lost-softirq check, made in every
 *    end state;
 *  - each CPU's interrupts come from its own line, affine to that CPU.
 */
import {
  add, assign, defineDesign, eq, load, r, raise_softirq_irqoff, repeat, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh,
  this_cpu_inc, v, type Design, type Stmt,
} from '../../dsl/design.ts';
import { perCpuSum, type BenchParams } from './irq-lock.ts';

export interface SoftirqBhParams extends BenchParams {
  /** Hardirqs per CPU (pan's IRQS; 1 in the reference runs). */
  readonly irqs?: number;
}

export function softirqBhDesign({ cpus, k, buggy, irqs = 1 }: SoftirqBhParams): Design {
  const critical: Stmt[] = [load('t', v('cnt')), assign('cnt', add(r('t'), 1))];
  const body = buggy
    ? [spin_lock('L'), ...critical, spin_unlock('L')]
    : [spin_lock_bh('L'), ...critical, spin_unlock_bh('L')];
  return defineDesign({
    name: `bench-softirq_bh-${buggy ? 'buggy' : 'fixed'}-n${cpus}-k${k}`,
    description:
      `SPIN reference scenario softirq_bh (${cpus} CPUs, K=${k}, ${irqs} irq per CPU): each CPU's task takes L ${k} times around a racy counter update; ` +
      'each CPU\'s interrupt raises NET_RX, whose handler updates another counter under L. ' +
      (buggy ? 'The task uses spin_lock with bh on: B2, NET_RX at irq_exit spins on L held by the task below it.' : 'The task uses spin_lock_bh.'),
    cpus,
    locks: { L: 'spinlock' },
    vars: { cnt: 0, rx: 0 },
    percpu: { nsoft: 0 },
    tasks: Array.from({ length: cpus }, (_, c) => ({ name: `thread${c}`, cpu: c, body: [repeat(k, body)] })),
    irqs: Array.from({ length: cpus }, (_, c) => ({ name: `irq${c}`, cpus: [c], budget: irqs, handler: [raise_softirq_irqoff('NET_RX')] })),
    softirqs: {
      NET_RX: [spin_lock('L'), load('s', v('rx')), assign('rx', add(r('s'), 1)), this_cpu_inc('nsoft'), spin_unlock('L')],
    },
    invariants: [
      { name: 'no lost update in process context', holds: eq(v('cnt'), cpus * k), when: 'at-end' },
      { name: 'no lost update in the softirq', holds: eq(v('rx'), perCpuSum('nsoft', cpus)), when: 'at-end' },
    ],
    expected: buggy ? 'deadlock' : 'verified',
  });
}
