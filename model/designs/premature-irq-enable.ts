/**
 * B4, premature irq enable (shared/kernel-semantics.md §8; locking.rst on
 * spin_lock_irq vs spin_lock_irqsave): spin_unlock_irq re-enables irqs
 * unconditionally, even when the caller had them off for another lock.
 */
import {
  defineDesign, inc, spin_lock, spin_lock_irq, spin_lock_irqsave, spin_unlock, spin_unlock_irq,
  spin_unlock_irqrestore, type Design,
} from '../dsl/design.ts';

const handler = [spin_lock('A'), inc('a_events'), spin_unlock('A')];

/** spin_unlock_irq(B) turns irqs back on while A is still held. */
export const prematureIrqEnable: Design = defineDesign({
  name: 'nested-spin_unlock_irq-under-irqsave',
  description:
    'A task holds A by spin_lock_irqsave and, inside it, takes B by spin_lock_irq and releases it by spin_unlock_irq; the eth0 handler takes A. ' +
    'B4: spin_unlock_irq enables irqs unconditionally (it does not restore the caller\'s state), so eth0 can arrive while A is still held and its handler spins on A over the task that holds it: B1 on one CPU.',
  cpus: 1,
  locks: { A: 'spinlock', B: 'spinlock' },
  vars: { a_events: 0, b_events: 0 },
  tasks: [{
    name: 'config', cpu: 0, replicable: true,
    body: [spin_lock_irqsave('A', 'flags'), spin_lock_irq('B'), inc('b_events'), spin_unlock_irq('B'), inc('a_events'), spin_unlock_irqrestore('A', 'flags')],
  }],
  irqs: [{ name: 'eth0', handler, budget: 1 }],
  expected: 'deadlock',
  twin: 'nested-spin_lock-under-irqsave',
});

/** Inside an irqs-off section the inner lock is a plain spin_lock. */
export const nestedSpinLockUnderIrqsave: Design = defineDesign({
  ...prematureIrqEnable,
  name: 'nested-spin_lock-under-irqsave',
  description:
    'The same task with B taken by plain spin_lock/spin_unlock inside the spin_lock_irqsave(A) section. ' +
    'Fix for B4: irqs are already off, and plain spin_unlock leaves them off, so eth0 can only arrive before spin_lock_irqsave(A) or after spin_unlock_irqrestore(A).',
  tasks: [{
    name: 'config', cpu: 0, replicable: true,
    body: [spin_lock_irqsave('A', 'flags'), spin_lock('B'), inc('b_events'), spin_unlock('B'), inc('a_events'), spin_unlock_irqrestore('A', 'flags')],
  }],
  expected: 'verified',
  twin: 'nested-spin_unlock_irq-under-irqsave',
});
