/**
 * B20 (shared/kernel-semantics.md; kernel-semantics-rt.md §2 B58): an NMI
 * takes a raw spinlock that the context it interrupted holds on the same
 * CPU. NMIs are not masked by local_irq_disable, so raw_spin_lock_irqsave
 * in the task does not keep the NMI out: the NMI spins on a lock whose
 * holder is beneath it, an AA deadlock. The fix: raw_spin_trylock in NMI,
 * dropping (or deferring) the event when the lock is busy.
 */
import { defineDesign, if_, inc } from '../../dsl/design.ts';
import { raw_spin_lock, raw_spin_lock_irqsave, raw_spin_trylock, raw_spin_unlock, raw_spin_unlock_irqrestore } from '../../dsl/raw_spinlock.ts';

export const nmiRawSpinLock = defineDesign({
  name: 'nmi-raw-spin-lock',
  description:
    'A perf-style NMI handler and a task share the raw spinlock R; the task takes it with raw_spin_lock_irqsave, which masks interrupts but not NMIs. ' +
    'The NMI arrives on the task\'s CPU while it holds R and spins in raw_spin_lock(&R) on top of its holder: B20, an AA deadlock that irqs-off does not prevent.',
  cpus: 1,
  locks: { R: 'raw_spinlock' },
  vars: { events: 0 },
  irqs: [{ name: 'perf', nmi: true, handler: [raw_spin_lock('R'), inc('events'), raw_spin_unlock('R')] }],
  tasks: [{ name: 'reader', cpu: 0, body: [raw_spin_lock_irqsave('R', 'flags'), inc('events'), raw_spin_unlock_irqrestore('R', 'flags')] }],
  expected: 'deadlock',
  twin: 'nmi-raw-spin-trylock',
});

export const nmiRawSpinTrylock = defineDesign({
  ...nmiRawSpinLock,
  name: 'nmi-raw-spin-trylock',
  description:
    'The B20 fix: the NMI handler uses raw_spin_trylock(&R) and drops its event when R is busy (the interrupted context may be its holder). No deadlock in any schedule.',
  irqs: [{ name: 'perf', nmi: true, handler: [if_(raw_spin_trylock('R'), [inc('events'), raw_spin_unlock('R')], [])] }],
  expected: 'verified',
  twin: 'nmi-raw-spin-lock',
});
