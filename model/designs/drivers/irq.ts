/**
 * Irq lines and irq_work (kernel/irq/manage.c, kernel/irq_work.c;
 * shared/kernel-semantics-drivers.md D4.5).
 *
 * B32: disable_irq (or synchronize_irq, free_irq) waits for the line's
 * handlers, the threaded one included: "If you use this function while
 * holding a resource the IRQ handler may need you will deadlock" (its
 * kernel-doc). A touchscreen-style driver whose thread function takes
 * ts->lock, a mutex, must not call disable_irq with ts->lock held.
 *
 * B36: an irq_work queued from an NMI-context notifier runs later, in
 * hardirq context; freeing what its callback reads without irq_work_sync
 * is a use-after-free. Reported on LKML for ACPI APEI GHES (2025):
 * ghes_remove() unregisters the notifier and frees the ghes, while
 * ghes_proc_irq_work may still be pending and dereference it.
 */
import { defineDesign, inc, kfree, load, mutex_lock, mutex_unlock, v, type Design } from '../../dsl/design.ts';
import { disable_irq, enable_irq, free_irq, irq_work_queue, irq_work_sync, request_irq } from '../../dsl/irq.ts';

// ------------------------------------------------------------ B32

const touchscreen = {
  cpus: 2,
  locks: { 'ts->lock': 'mutex' as const },
  vars: { 'ts->events': 0, 'ts->suspended': 0 },
  // The thread function reads the controller over I2C, under ts->lock (it may sleep).
  irqs: [{ name: 'ts', cpus: [0], flags: ['ONESHOT' as const], thread: [mutex_lock('ts->lock'), inc('ts->events'), mutex_unlock('ts->lock')] }],
};

/** B32: disable_irq with the lock the thread function needs. */
export const disableIrqUnderHandlerMutex: Design = defineDesign({
  name: 'disable_irq-under-threaded-handler-mutex',
  description:
    "A touchscreen driver's suspend takes ts->lock, then calls disable_irq (B32). The interrupt is threaded (IRQF_ONESHOT) and its thread function takes ts->lock too. " +
    "disable_irq waits in synchronize_irq until the thread function has finished, and the thread sleeps on the mutex suspend holds: a deadlock across the two CPUs, as disable_irq's kernel-doc warns.",
  ...touchscreen,
  tasks: [{ name: 'ts_suspend', cpu: 1, body: [mutex_lock('ts->lock'), disable_irq('ts'), inc('ts->suspended'), mutex_unlock('ts->lock'), enable_irq('ts')] }],
  expected: 'deadlock',
  twin: 'disable_irq-before-handler-mutex',
});

/** Fixed: disable_irq first, then the lock. */
export const disableIrqBeforeHandlerMutex: Design = defineDesign({
  ...disableIrqUnderHandlerMutex,
  name: 'disable_irq-before-handler-mutex',
  description:
    'The same suspend calls disable_irq before taking ts->lock (B32 fixed): synchronize_irq waits for a running thread function, which can take the free mutex and finish; ' +
    'once disable_irq returns the line is off, and suspend takes ts->lock against nobody.',
  tasks: [{ name: 'ts_suspend', cpu: 1, body: [disable_irq('ts'), mutex_lock('ts->lock'), inc('ts->suspended'), mutex_unlock('ts->lock'), enable_irq('ts')] }],
  expected: 'verified',
  twin: 'disable_irq-under-threaded-handler-mutex',
});

// ------------------------------------------------------------ B36

const ghes = {
  cpus: 2,
  vars: { 'ghes->estatus': 0 },
  structs: { ghes: { members: ['ghes->estatus'] } },
  irq_works: { ghes_proc_irq_work: { func: 'ghes_proc_in_irq' } },
  functions: { ghes_proc_in_irq: [load('status', v('ghes->estatus'))] },
  // ghes_notify_nmi stands as a hard irq line (NMIs are not modelled): it records the error and queues the irq_work.
  irqs: [{ name: 'ghes_nmi', cpus: [0], start: 'request_irq' as const, handler: [inc('ghes->estatus'), irq_work_queue('ghes_proc_irq_work')] }],
};

/** B36: ghes_remove frees the ghes while the irq_work that reads it may still be pending. */
export const ghesRemoveWithoutIrqWorkSync: Design = defineDesign({
  name: 'ghes-remove-without-irq_work_sync',
  description:
    'ACPI APEI GHES as reported on LKML in 2025 (B36): the error notifier queues ghes_proc_irq_work, whose callback reads the ghes, and ghes_remove unregisters the notifier and frees the ghes. ' +
    'free_irq waits for a running notifier, not for the irq_work it queued: the self-IPI comes after kfree(ghes), and ghes_proc_in_irq reads freed memory.',
  ...ghes,
  tasks: [
    { name: 'ghes_probe', cpu: 1, body: [request_irq('ghes_nmi')] },
    { name: 'ghes_remove', cpu: 1, after: 'ghes_probe', body: [free_irq('ghes_nmi'), kfree('ghes')] },
  ],
  expected: 'use-after-free',
  twin: 'ghes-remove-irq_work_sync-first',
});

/** Fixed: irq_work_sync between unregistering the notifier and the free. */
export const ghesRemoveIrqWorkSyncFirst: Design = defineDesign({
  ...ghesRemoveWithoutIrqWorkSync,
  name: 'ghes-remove-irq_work_sync-first',
  description:
    'The same remove with irq_work_sync(&ghes_proc_irq_work) after free_irq and before kfree (B36 fixed): once the notifier cannot run, irq_work_sync spins until the queued callback ' +
    'has run on the CPU that queued it, so nothing reads the ghes after its free.',
  tasks: [
    { name: 'ghes_probe', cpu: 1, body: [request_irq('ghes_nmi')] },
    { name: 'ghes_remove', cpu: 1, after: 'ghes_probe', body: [free_irq('ghes_nmi'), irq_work_sync('ghes_proc_irq_work'), kfree('ghes')] },
  ],
  expected: 'verified',
  twin: 'ghes-remove-without-irq_work_sync',
});
