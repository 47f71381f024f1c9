/**
 * Non-reentrancy (shared/kernel-semantics.md §6.3 W1; commit dbf2576e37da,
 * documented by f9eaaa82b474): since 3.7 a work item executes on at most one
 * kworker system-wide, provided it is always queued on the same workqueue.
 * __queue_work sends it to the pool where it still runs only if it runs
 * there *for this workqueue*.
 */
import { BUG_ON, dec, defineDesign, gt, inc, v } from '../../dsl/design.ts';
import { queue_work_on } from '../../dsl/workqueue.ts';

const rescan = {
  cpus: 2,
  vars: { running: 0, scans: 0 },
  workqueues: { scan_wq: {}, events_wq: {} },
  works: { rescan_work: { func: 'rescan_fn' } },
  functions: { rescan_fn: [inc('running'), BUG_ON(gt(v('running'), 1)), inc('scans'), dec('running')] },
};

/** W1 counter-example: the same item queued on two workqueues. */
export const workQueuedOnTwoWorkqueues = defineDesign({
  name: 'work-queued-on-two-workqueues',
  description:
    'A bus rescan item, which assumes it never runs twice at once, is queued on scan_wq from cpu0 and, from cpu1, on a second workqueue events_wq. ' +
    'Non-reentrancy holds only for an item kept on one workqueue: queued on events_wq while it runs for scan_wq, it starts on cpu1\'s pool in parallel and BUG_ON(running > 1) fires. ' +
    'This is the §6.3 W1 counter-example, a race that none of the B1–B21 patterns of §8 names.',
  ...rescan,
  tasks: [
    { name: 'hotplug', cpu: 0, replicable: true, body: [queue_work_on(0, 'scan_wq', 'rescan_work')] },
    { name: 'sysfs', cpu: 1, replicable: true, body: [queue_work_on(1, 'events_wq', 'rescan_work')] },
  ],
  expected: 'assertion',
  twin: 'work-requeued-on-its-workqueue',
});

/** Fixed: both queue it on scan_wq, from either CPU. */
export const workRequeuedOnItsWorkqueue = defineDesign({
  ...rescan,
  name: 'work-requeued-on-its-workqueue',
  description:
    'Both paths queue the rescan item on scan_wq, one on cpu0 and one on cpu1, as W1 requires (a condition of §6.3, not one of the B1–B21 patterns of §8). ' +
    'If it is still running on cpu0 when cpu1 queues it, __queue_work sends it to cpu0\'s pool, where it runs again only after the first run returns.',
  tasks: [
    { name: 'hotplug', cpu: 0, replicable: true, body: [queue_work_on(0, 'scan_wq', 'rescan_work')] },
    { name: 'sysfs', cpu: 1, replicable: true, body: [queue_work_on(1, 'scan_wq', 'rescan_work')] },
  ],
  expected: 'verified',
  twin: 'work-queued-on-two-workqueues',
});
