/**
 * B10 for work items (shared/kernel-semantics.md §6.2, §8): tearing down
 * what a work item uses while it may still run, or a workqueue while a
 * delayed item's timer may still queue on it. cancel_work() and
 * drain_workqueue() do not wait for what they do not see.
 */
import { complete, defineDesign, inc, kfree, wait_for_completion } from '../../dsl/design.ts';
import {
  cancel_delayed_work_sync, cancel_work, cancel_work_sync, destroy_workqueue, queue_delayed_work, schedule_work,
} from '../../dsl/workqueue.ts';

const poll = {
  cpus: 1,
  vars: { polls: 0 },
  workqueues: { poll_wq: {} },
  works: { poll_work: { func: 'poll_fn', delayed: true } },
  functions: { poll_fn: [inc('polls')] },
};

/** B10: destroy_workqueue with a delayed item's timer still armed. */
export const destroyWorkqueueWithDelayedWorkArmed = defineDesign({
  name: 'destroy_workqueue-with-delayed-work-armed',
  description:
    'A driver arms its delayed poll work on its own workqueue and, on remove, calls destroy_workqueue() without cancelling it (B10 for delayed work). ' +
    'destroy_workqueue drains only queued items; the poll timer fires afterwards and delayed_work_timer_fn queues the item on the freed workqueue.',
  ...poll,
  tasks: [{ name: 'driver', cpu: 0, body: [queue_delayed_work('poll_wq', 'poll_work', 2), destroy_workqueue('poll_wq')] }],
  expected: 'use-after-free',
  twin: 'cancel_delayed_work_sync-before-destroy_workqueue',
});

export const cancelDelayedWorkSyncBeforeDestroyWorkqueue = defineDesign({
  ...poll,
  name: 'cancel_delayed_work_sync-before-destroy_workqueue',
  description:
    'The remove path calls cancel_delayed_work_sync() before destroy_workqueue() (B10 fixed). ' +
    'It deactivates the timer, or takes the item off the queue, or waits for the running poll, so nothing can queue on the workqueue once it is freed.',
  tasks: [{ name: 'driver', cpu: 0, body: [queue_delayed_work('poll_wq', 'poll_work', 2), cancel_delayed_work_sync('poll_work'), destroy_workqueue('poll_wq')] }],
  expected: 'verified',
  twin: 'destroy_workqueue-with-delayed-work-armed',
});

const rx = {
  cpus: 2,
  vars: { 'priv->rx_count': 0 },
  completions: { queued: {} },
  structs: { priv: { members: ['priv->rx_work', 'priv->rx_count'] } },
  works: { 'priv->rx_work': { func: 'rx_fn' } },
  functions: { rx_fn: [inc('priv->rx_count')] },
};

/** B10: cancel_work does not wait for a running instance. */
export const cancelWorkThenKfree = defineDesign({
  name: 'cancel_work-then-kfree',
  description:
    'The receive path on cpu1 defers its bookkeeping to priv->rx_work; the remove path on cpu0 waits until it was queued, calls cancel_work() and frees priv (B10 for work items). ' +
    'cancel_work only takes a pending item off its queue: if the kworker has already started rx_fn it returns false at once, priv is freed, and rx_fn touches freed memory.',
  ...rx,
  tasks: [
    { name: 'rx', cpu: 1, body: [schedule_work('priv->rx_work'), complete('queued')] },
    { name: 'remove', cpu: 0, body: [wait_for_completion('queued'), cancel_work('priv->rx_work'), kfree('priv')] },
  ],
  expected: 'use-after-free',
  twin: 'cancel_work_sync-then-kfree',
});

export const cancelWorkSyncThenKfree = defineDesign({
  ...rx,
  name: 'cancel_work_sync-then-kfree',
  description:
    'The remove path uses cancel_work_sync() before kfree(priv) (B10 fixed). ' +
    'It takes the item off its queue and then sleeps until a running rx_fn has returned, so when priv is freed the item is neither pending nor running.',
  tasks: [
    { name: 'rx', cpu: 1, body: [schedule_work('priv->rx_work'), complete('queued')] },
    { name: 'remove', cpu: 0, body: [wait_for_completion('queued'), cancel_work_sync('priv->rx_work'), kfree('priv')] },
  ],
  expected: 'verified',
  twin: 'cancel_work-then-kfree',
});
