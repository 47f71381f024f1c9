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
 * Differences from the Promela model, read line by line against
 * softirq_bh.pml (README "Performance" repeats them):
 *  - ksoftirqd exists (profile modern): __do_softirq may give up at a
 *    restart (MAX_SOFTIRQ_RESTART, or the 2 ms / need_resched limit,
 *    offered as a choice) and wake ksoftirqd, which runs NET_RX later in
 *    its own context; pan has no ksoftirqd (its restart loop never gives up);
 *  - interrupts: each CPU's come from its own line (`irq<c>`, affine to CPU
 *    c, budget IRQS, 1 as in the reference runs);
 *  - end states: every line has used its budget (see irq-lock.ts); pan's
 *    CPU may stop with interrupts left;
 *  - step granularity: the hardirq is three steps (arrival,
 *    raise_softirq_irqoff, return = irq_exit, which starts the softirq when
 *    !in_interrupt()), pan's one d_step; spin_unlock_bh is one step (unlock,
 *    then local_bh_enable, which starts pending softirqs), pan's two
 *    (T_UNLOCK, T_BHON); spin_lock_bh is two as in pan; __do_softirq's
 *    "run NET_RX handler" step is pan's SQ_CHECK with pending set, its
 *    "batch done" step pan's SQ_CHECK with nothing pending; the handler and
 *    the task end with a `return` step;
 *  - the handler's runs are counted by a per-CPU ghost counter bumped inside
 *    the handler (under L, its own step), where pan bumps `nsoft` in
 *    SQ_CHECK and sums it at exit;
 *  - pan's end check `assert(!pending && bh == 0)` is kdefer's lost-softirq
 *    check in every end state and its bh accounting (a bh count that goes
 *    wrong is bad-bh-enable); pan's `assert(L == me+1)` is implicit (lock
 *    ownership is the model's own) and its final `assert(L == 0)` is the
 *    lock-leak check;
 *  - the task's loop is `repeat(K)`, unrolled, where pan keeps a counter i.
 */
import {
  add, assign, defineDesign, eq, load, r, raise_softirq_irqoff, repeat, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh,
  this_cpu_inc, v, type Design, type Stmt,
} from '../../dsl/design.ts';
import { benchName, perCpuSum, type BenchParams } from './irq-lock.ts';

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
    name: benchName('softirq_bh', { cpus, k, buggy }),
    description:
      `SPIN reference scenario softirq_bh (${cpus} CPUs, K=${k}, ${irqs} irq per CPU): each CPU's task takes L ${k} times around a racy counter update; ` +
      'each CPU\'s interrupt raises NET_RX, whose handler updates another counter under L. ' +
      (buggy ? 'The task uses spin_lock with bh on: B2, NET_RX at irq_exit spins on L held by the task below it.' : 'The task uses spin_lock_bh, the fix for B2.'),
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
    twin: benchName('softirq_bh', { cpus, k, buggy: !buggy }),
  });
}
