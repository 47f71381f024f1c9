/**
 * B48, cancel and requeue on teardown (shared/kernel-semantics-drivers.md
 * D8.3): cancel_work_sync() waits for the work and removes a pending one,
 * but says nothing about the next schedule_work(); a source that can still
 * queue the item (an interrupt handler not yet freed) queues it again, and
 * it runs on the freed structure. disable_work_sync() (6.10+,
 * kernel/workqueue.c) cancels and leaves the item disabled: queueing it
 * returns false until enable_work. NC-SI's ncsi_unregister_dev switched to
 * it for this reason (a0ffa68c70b3, "net/ncsi: Disable the ncsi work before
 * freeing the associated structure", 2024).
 */
import { defineDesign, inc, kfree, type Design, type Stmt } from '../../dsl/design.ts';
import { free_irq } from '../../dsl/irq.ts';
import { cancel_work_sync, disable_work_sync, schedule_work } from '../../dsl/workqueue.ts';

const ncsi = {
  cpus: 2,
  vars: { 'ndp->state': 0, 'ndp->rx_count': 0 },
  structs: { ndp: { members: ['ndp->state', 'ndp->rx_count', 'ndp->work'] } },
  works: { 'ndp->work': { func: 'ncsi_dev_work' } },
  functions: { ncsi_dev_work: [inc('ndp->state')] },
  // The NIC's interrupt stands for the packet path that hands an NC-SI response over to the work.
  irqs: [{ name: 'nic', cpus: [0], budget: 1, handler: [inc('ndp->rx_count'), schedule_work('ndp->work')] }],
};

/** ncsi_unregister_dev: stop the work, then the source, then free. */
const unregister = (stop: Stmt): readonly Stmt[] => [stop, free_irq('nic'), kfree('ndp')];

/** B48: cancel_work_sync, and the interrupt queues the work again before free_irq. */
export const ncsiCancelThenRequeue: Design = defineDesign({
  name: 'ncsi-cancel_work_sync-then-requeue',
  description:
    'ncsi_unregister_dev before a0ffa68c70b3 (B48): cancel_work_sync(&ndp->work), then the rest of the teardown, then kfree(ndp). The interrupt on cpu0 can still come after the cancel ' +
    'and schedule_work(&ndp->work) again; free_irq waits for the handler, not for the work it queued, and ncsi_dev_work runs on the freed ndp.',
  ...ncsi,
  tasks: [{ name: 'ncsi_unregister_dev', cpu: 1, body: unregister(cancel_work_sync('ndp->work')) }],
  expected: 'use-after-free',
  twin: 'ncsi-disable_work_sync',
});

/** Fixed: disable_work_sync; a later schedule_work returns false. */
export const ncsiDisableWorkSync: Design = defineDesign({
  ...ncsiCancelThenRequeue,
  name: 'ncsi-disable_work_sync',
  description:
    'The same teardown with disable_work_sync(&ndp->work) (B48 fixed, 6.10+): it cancels and waits like cancel_work_sync and leaves the item disabled, so an interrupt that comes afterwards ' +
    'gets false from schedule_work and queues nothing; the work never runs on the freed ndp.',
  tasks: [{ name: 'ncsi_unregister_dev', cpu: 1, body: unregister(disable_work_sync('ndp->work')) }],
  expected: 'verified',
  twin: 'ncsi-cancel_work_sync-then-requeue',
});
