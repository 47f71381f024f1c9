/**
 * Wilcox, "I'll Do It Later", §2 (contexts and locking): data shared between
 * process and interrupt context, and between process and bottom-half context.
 */
import {
  __raise_softirq_irqoff, BUG_ON, defineDesign, eq, inc, spin_lock, spin_lock_bh, spin_lock_irqsave, spin_unlock,
  spin_unlock_bh, spin_unlock_irqrestore, this_cpu_read, this_cpu_write,
} from '../../dsl/design.ts';

const irqHandler = [spin_lock('card->lock'), inc('events'), spin_unlock('card->lock')];

/** The paper's deadlock example: "If the code in process context is holding a spinlock and the code in interrupt context attempts to acquire the same spinlock, it will spin forever." */
export const wilcoxProcessVsIrq = defineDesign({
  name: 'wilcox-process-vs-interrupt-spin_lock',
  description:
    "Wilcox §2: a driver's ioctl path takes card->lock with plain spin_lock, and the card's interrupt handler takes the same lock (B1). " +
    'The interrupt arrives on the CPU holding the lock and spins forever: the paper\'s reason to recommend spin_lock_irqsave.',
  cpus: 2,
  locks: { 'card->lock': 'spinlock' },
  vars: { events: 0 },
  tasks: [{ name: 'ioctl', cpu: 0, replicable: true, body: [spin_lock('card->lock'), inc('events'), spin_unlock('card->lock')] }],
  irqs: [{ name: 'card', handler: irqHandler, budget: 1 }],
  expected: 'deadlock',
  twin: 'wilcox-process-vs-interrupt-spin_lock_irqsave',
});

export const wilcoxProcessVsIrqFixed = defineDesign({
  ...wilcoxProcessVsIrq,
  name: 'wilcox-process-vs-interrupt-spin_lock_irqsave',
  description:
    'Wilcox §2 fixed: process context takes card->lock with spin_lock_irqsave, which saves the interrupt state, disables interrupts on the local CPU and acquires the lock (B1 fixed). ' +
    'The interrupt handler still uses plain spin_lock, since Linux does not re-enter a handler; on another CPU it just waits.',
  tasks: [{ name: 'ioctl', cpu: 0, replicable: true, body: [spin_lock_irqsave('card->lock', 'flags'), inc('events'), spin_unlock_irqrestore('card->lock', 'flags')] }],
  expected: 'verified',
  twin: 'wilcox-process-vs-interrupt-spin_lock',
});

const bhCode = {
  // The bottom half must never see the process-context critical section open on its own CPU:
  // spin_lock_bh defers softirqs on this CPU only; on another CPU NET_RX runs, and waits for the lock.
  NET_RX: [BUG_ON(eq(this_cpu_read('in_section'), 1), 'softirq ran inside the spin_lock_bh section on its CPU'), spin_lock('card->lock'), inc('events'), spin_unlock('card->lock')],
};
const raiser = [__raise_softirq_irqoff('NET_RX')];

export const wilcoxProcessVsBh = defineDesign({
  name: 'wilcox-process-vs-bh-spin_lock',
  description:
    'Wilcox §2: data shared between process context and a bottom half, with the process side using plain spin_lock (B2). ' +
    "The interrupt's irq_exit runs the softirq on top of the lock holder, which spins on card->lock forever.",
  cpus: 1,
  locks: { 'card->lock': 'spinlock' },
  vars: { events: 0 },
  percpu: { in_section: 0 },
  tasks: [{ name: 'ioctl', cpu: 0, replicable: true, body: [spin_lock('card->lock'), inc('events'), spin_unlock('card->lock')] }],
  irqs: [{ name: 'card', handler: raiser, budget: 1 }],
  softirqs: bhCode,
  expected: 'deadlock',
  twin: 'wilcox-process-vs-bh-spin_lock_bh',
});

export const wilcoxProcessVsBhFixed = defineDesign({
  ...wilcoxProcessVsBh,
  name: 'wilcox-process-vs-bh-spin_lock_bh',
  description:
    'Wilcox §2 fixed: spin_lock_bh "allows interrupts to come in while the spinlock is held, but does not allow bottom halves to run on exit from the interrupt routine; ' +
    'they will be deferred until the spin_unlock_bh()" (B2 fixed). The BUG_ON in the softirq checks that deferral: it never runs inside the section on the same CPU.',
  tasks: [{ name: 'ioctl', cpu: 0, replicable: true, body: [spin_lock_bh('card->lock'), this_cpu_write('in_section', 1), inc('events'), this_cpu_write('in_section', 0), spin_unlock_bh('card->lock')] }],
  expected: 'verified',
  twin: 'wilcox-process-vs-bh-spin_lock',
});
