/**
 * B2, AA task/softirq (shared/kernel-semantics.md §8; e70ac1716586): a
 * task and the NET_RX softirq share a lock on one CPU; eth0's handler
 * schedules NAPI with __raise_softirq_irqoff(NET_RX), and irq_exit runs
 * NET_RX on top of whatever the interrupt interrupted.
 */
import {
  __raise_softirq_irqoff, defineDesign, inc, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, type Design,
} from '../dsl/design.ts';

const netRx = [spin_lock('priv->lock'), inc('priv->rx_packets'), spin_unlock('priv->lock')];

/** The task takes the lock with plain spin_lock, bottom halves on: NET_RX runs over it at irq_exit. */
export const taskVsSoftirqSpinLock: Design = defineDesign({
  name: 'task-vs-softirq-spin_lock',
  description:
    'A task updates the receive statistics under spin_lock(&priv->lock); the eth0 handler raises NET_RX (____napi_schedule: __raise_softirq_irqoff) and the NET_RX poll takes the same lock. ' +
    'B2: spin_lock disables neither irqs nor bottom halves, so eth0 arrives while the task holds the lock and its irq_exit runs NET_RX on top of the task; the softirq spins on a lock held by the task it interrupted.',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { 'priv->rx_packets': 0, stats: 0 },
  tasks: [{ name: 'ethtool', cpu: 0, replicable: true, body: [spin_lock('priv->lock'), inc('stats'), spin_unlock('priv->lock')] }],
  irqs: [{ name: 'eth0', handler: [__raise_softirq_irqoff('NET_RX')], budget: 1 }],
  softirqs: { NET_RX: netRx },
  expected: 'deadlock',
  twin: 'task-vs-softirq-spin_lock_bh',
});

/** The task disables bottom halves with the lock: NET_RX waits for spin_unlock_bh. */
export const taskVsSoftirqSpinLockBh: Design = defineDesign({
  ...taskVsSoftirqSpinLock,
  name: 'task-vs-softirq-spin_lock_bh',
  description:
    'The same driver with the task side taking priv->lock by spin_lock_bh. ' +
    'Fix for B2: eth0 may still arrive inside the critical section, but its irq_exit sees in_interrupt() (bh disabled) and leaves NET_RX pending; spin_unlock_bh releases the lock first and then runs NET_RX from __local_bh_enable_ip.',
  tasks: [{ name: 'ethtool', cpu: 0, replicable: true, body: [spin_lock_bh('priv->lock'), inc('stats'), spin_unlock_bh('priv->lock')] }],
  expected: 'verified',
  twin: 'task-vs-softirq-spin_lock',
});
