/**
 * B1, AA task/hardirq (shared/kernel-semantics.md §8; locking.rst "Hard IRQ
 * Context"): a driver's read path and its interrupt handler share
 * `priv->lock` on one CPU.
 */
import { defineDesign, inc, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, type Design } from '../dsl/design.ts';

const handler = [spin_lock('priv->lock'), inc('priv->rx_packets'), spin_unlock('priv->lock')];

/** The task takes the lock with plain spin_lock, irqs still on: eth0's handler spins on it. */
export const taskVsHardirqSpinLock: Design = defineDesign({
  name: 'task-vs-hardirq-spin_lock',
  description:
    'A task reads the device statistics under spin_lock(&priv->lock) while the eth0 interrupt handler updates them under the same lock, on one CPU. ' +
    'B1: spin_lock leaves local irqs on, so eth0 can arrive while the task holds the lock; the handler spins on a lock held by the context it interrupted, which cannot run until the handler returns.',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { 'priv->rx_packets': 0, stats: 0 },
  tasks: [{ name: 'ethtool', cpu: 0, replicable: true, body: [spin_lock('priv->lock'), inc('stats'), spin_unlock('priv->lock')] }],
  irqs: [{ name: 'eth0', handler, budget: 1 }],
  expected: 'deadlock',
  twin: 'task-vs-hardirq-spin_lock_irqsave',
});

/** The task disables local irqs with the lock: eth0 waits until spin_unlock_irqrestore. */
export const taskVsHardirqSpinLockIrqsave: Design = defineDesign({
  ...taskVsHardirqSpinLock,
  name: 'task-vs-hardirq-spin_lock_irqsave',
  description:
    'The same driver with the task side taking priv->lock by spin_lock_irqsave and releasing it by spin_unlock_irqrestore. ' +
    'Fix for B1: local irqs stay off while the task holds the lock, so eth0 can only arrive before or after the critical section; the handler keeps plain spin_lock, since irqs are already off in a hardirq.',
  tasks: [{
    name: 'ethtool', cpu: 0, replicable: true,
    body: [spin_lock_irqsave('priv->lock', 'flags'), inc('stats'), spin_unlock_irqrestore('priv->lock', 'flags')],
  }],
  expected: 'verified',
  twin: 'task-vs-hardirq-spin_lock',
});
