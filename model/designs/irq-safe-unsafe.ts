/**
 * B6, HARDIRQ-safe → HARDIRQ-unsafe (shared/kernel-semantics.md §8;
 * lockdep's "HARDIRQ-safe -> HARDIRQ-unsafe lock order detected"): lock A
 * is taken in a hard irq handler, lock B with irqs on, and a task nests B
 * inside A.
 */
import {
  defineDesign, inc, spin_lock, spin_lock_irq, spin_lock_irqsave, spin_unlock, spin_unlock_irq,
  spin_unlock_irqrestore, type Design,
} from '../dsl/design.ts';

/** B is taken with plain spin_lock on cpu0, where eth0 (which takes A) can arrive. */
export const irqSafeToUnsafe: Design = defineDesign({
  name: 'irq-safe-to-unsafe-spin_lock',
  description:
    'The eth0 handler takes A; a task on cpu1 takes spin_lock_irq(&A) and nests spin_lock(&B) inside it; a task on cpu0 takes spin_lock(&B) with irqs on. ' +
    'B6: cpu1 holds A and spins on B, cpu0 holds B and is interrupted by eth0, whose handler spins on A; cpu0 cannot release B until the handler returns, a cross-CPU cycle although neither CPU alone breaks B1.',
  cpus: 2,
  locks: { A: 'spinlock', B: 'spinlock' },
  vars: { a_events: 0, b_events: 0 },
  tasks: [
    { name: 'stats', cpu: 0, replicable: true, body: [spin_lock('B'), inc('b_events'), spin_unlock('B')] },
    { name: 'config', cpu: 1, replicable: true, body: [spin_lock_irq('A'), spin_lock('B'), inc('b_events'), spin_unlock('B'), spin_unlock_irq('A')] },
  ],
  irqs: [{ name: 'eth0', handler: [spin_lock('A'), inc('a_events'), spin_unlock('A')], budget: 1 }],
  expected: 'deadlock',
  twin: 'irq-safe-to-unsafe-spin_lock_irqsave',
});

/** B is irq-safe everywhere: spin_lock_irqsave on both CPUs. */
export const irqSafeToUnsafeFixed: Design = defineDesign({
  ...irqSafeToUnsafe,
  name: 'irq-safe-to-unsafe-spin_lock_irqsave',
  description:
    'The same locking with B taken by spin_lock_irqsave on both CPUs (inside A on cpu1, where irqs are already off). ' +
    'Fix for B6: B becomes HARDIRQ-safe, so no CPU can be interrupted while holding B; the holder of B always runs on and releases it, and the handler spinning on A only waits for cpu1, which needs nothing cpu0 holds.',
  tasks: [
    { name: 'stats', cpu: 0, replicable: true, body: [spin_lock_irqsave('B', 'flags'), inc('b_events'), spin_unlock_irqrestore('B', 'flags')] },
    {
      name: 'config', cpu: 1, replicable: true,
      body: [spin_lock_irq('A'), spin_lock_irqsave('B', 'flags'), inc('b_events'), spin_unlock_irqrestore('B', 'flags'), spin_unlock_irq('A')],
    },
  ],
  expected: 'verified',
  twin: 'irq-safe-to-unsafe-spin_lock',
});
