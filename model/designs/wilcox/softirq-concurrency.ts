/**
 * Wilcox §3 and kernel-semantics.md §2.1: the same softirq runs on several
 * CPUs at once, so a softirq handler must lock its own shared data. (The
 * serialised counterparts, tasklets and 2.4 bottom halves, are in the
 * tasklet and bh areas.)
 */
import { add, defineDesign, eq, inc, load, r, raise_softirq, spin_lock, spin_unlock, v, assign } from '../../dsl/design.ts';

const raise = [raise_softirq('NET_RX')];
/**
 * Each NET_RX run adds one to rx_count: rx_count ends equal to the runs (a
 * ghost counter each run bumps atomically), however many interrupts came
 * and however many raises were merged into one run.
 */
const everyRunCounted = [{ name: 'every NET_RX run counted', holds: eq(v('rx_count'), v('net_rx runs')), when: 'at-end' as const }];

export const softirqUnguarded = defineDesign({
  name: 'wilcox-softirq-unguarded-shared-data',
  description:
    'Wilcox §3: softirqs are the multithreaded bottom halves, and the NET_RX handler runs on both CPUs at once when both NICs interrupt (parallelism 2). ' +
    'Its unguarded read-modify-write of a shared counter loses an update: the at-end assertion fails.',
  cpus: 2,
  vars: { rx_count: 0, 'net_rx runs': 0 },
  irqs: [{ name: 'eth0', cpus: [0], handler: raise }, { name: 'eth1', cpus: [1], handler: raise }],
  tasks: [],
  softirqs: { NET_RX: [inc('net_rx runs'), load('n', v('rx_count')), assign('rx_count', add(r('n'), 1))] },
  invariants: everyRunCounted,
  expected: 'assertion',
  twin: 'wilcox-softirq-guarded-shared-data',
});

export const softirqGuarded = defineDesign({
  name: 'wilcox-softirq-guarded-shared-data',
  description:
    'Wilcox §3 fixed: the NET_RX handler still runs on both CPUs at once, but takes a spinlock around the shared counter (plain spin_lock: softirq against softirq). ' +
    'Every packet is counted.',
  cpus: 2,
  locks: { rx_lock: 'spinlock' },
  vars: { rx_count: 0, 'net_rx runs': 0 },
  irqs: [{ name: 'eth0', cpus: [0], handler: raise }, { name: 'eth1', cpus: [1], handler: raise }],
  tasks: [],
  softirqs: { NET_RX: [inc('net_rx runs'), spin_lock('rx_lock'), load('n', v('rx_count')), assign('rx_count', add(r('n'), 1)), spin_unlock('rx_lock')] },
  invariants: everyRunCounted,
  expected: 'verified',
  twin: 'wilcox-softirq-unguarded-shared-data',
});
