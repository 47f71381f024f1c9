/**
 * Waiting for work (shared/kernel-semantics.md §6.2, §8 B11–B13;
 * kernel/workqueue.c start_flush_work, insert_wq_barrier, __flush_work):
 * flush_work() sleeps until a barrier queued behind the work item has run,
 * so whatever the item itself waits for must not depend on the flusher.
 *
 * An item that flushes another item of its own workqueue depends on a free
 * max_active slot for it. kernel/workqueue.c: __queue_work puts an item
 * past max_active on the inactive list (pwq->nr_active <
 * pwq->max_active, else WORK_STRUCT_INACTIVE/DELAYED); only
 * pwq_dec_nr_in_flight, when an active item *finishes*, activates the
 * first inactive one (pwq_activate_first_inactive); a running item keeps
 * its slot while it sleeps in flush_work; and an item queued again while it
 * runs is active but, in process_one_work, finds the running instance
 * (find_worker_executing_work) and waits behind it on that worker's
 * scheduled list (move_linked_works). start_flush_work itself says it:
 * "If @max_active is 1 or rescuer is in use, flushing another work item on
 * the same workqueue may lead to deadlock" — and with max_active 2 and a
 * second caller, so can this.
 */
import { defineDesign, inc, mutex_lock, mutex_unlock, spin_lock, spin_unlock } from '../../dsl/design.ts';
import { flush_work, queue_work, schedule_work } from '../../dsl/workqueue.ts';
import type { Stmt } from '../../dsl/design.ts';

const linkWork = {
  cpus: 2,
  locks: { 'dev->mutex': 'mutex' as const },
  vars: { link_state: 0, resets: 0 },
  works: { 'priv->link_work': { func: 'link_work_fn' } },
  functions: { link_work_fn: [mutex_lock('dev->mutex'), inc('link_state'), mutex_unlock('dev->mutex')] },
  irqs: [{ name: 'eth0', cpus: [1], handler: [schedule_work('priv->link_work')], budget: 1 }],
};

/** B11: flush_work under the mutex the work function takes. */
export const flushWorkUnderMutex = defineDesign({
  name: 'flush_work-under-mutex',
  description:
    'The eth0 interrupt defers a link update to priv->link_work, whose function takes dev->mutex; the reset path holds dev->mutex and calls flush_work() on the same item (B11). ' +
    'The kworker on cpu1 sleeps on dev->mutex inside the work and the flush sleeps until the work returns: task reset → kworker/1:0 → dev->mutex → task reset.',
  ...linkWork,
  tasks: [{ name: 'reset', cpu: 0, body: [mutex_lock('dev->mutex'), inc('resets'), flush_work('priv->link_work'), mutex_unlock('dev->mutex')] }],
  expected: 'deadlock',
  twin: 'flush_work-after-mutex_unlock',
});

/** Fixed: flush outside the mutex. */
export const flushWorkAfterMutexUnlock = defineDesign({
  ...linkWork,
  name: 'flush_work-after-mutex_unlock',
  description:
    'The reset path drops dev->mutex before flush_work() (B11 fixed). ' +
    'The work can take the mutex and return, and the flush then finds its barrier run, whenever the interrupt came.',
  tasks: [{ name: 'reset', cpu: 0, body: [mutex_lock('dev->mutex'), inc('resets'), mutex_unlock('dev->mutex'), flush_work('priv->link_work')] }],
  expected: 'verified',
  twin: 'flush_work-under-mutex',
});

/** B12: a work item flushing itself. */
export const workFlushesItself = defineDesign({
  name: 'work-flushes-itself',
  description:
    'A watchdog work function counts a tick and then, to wait for any earlier run, calls flush_work() on its own work_struct (B12). ' +
    'The barrier goes behind the running instance, which is the caller itself: kworker/0:0 sleeps until kworker/0:0 returns.',
  cpus: 1,
  vars: { ticks: 0 },
  works: { wd_work: { func: 'wd_fn' } },
  functions: { wd_fn: [inc('ticks'), flush_work('wd_work')] },
  tasks: [{ name: 'probe', cpu: 0, body: [schedule_work('wd_work')] }],
  expected: 'deadlock',
  twin: 'work-flushed-by-its-owner',
});

/** Fixed: the owner flushes it, from outside. */
export const workFlushedByItsOwner = defineDesign({
  name: 'work-flushed-by-its-owner',
  description:
    'The watchdog function only counts its tick, and the task that queued it waits for it with flush_work() (B12 fixed). ' +
    'A flush from outside the item has a kworker to run the barrier: it returns once the tick is counted.',
  cpus: 1,
  vars: { ticks: 0 },
  works: { wd_work: { func: 'wd_fn' } },
  functions: { wd_fn: [inc('ticks')] },
  tasks: [{ name: 'probe', cpu: 0, replicable: true, body: [schedule_work('wd_work'), flush_work('wd_work')] }],
  expected: 'verified',
  twin: 'work-flushes-itself',
});

/** The driver queues its firmware-load item, then its configuration item, on fw_wq. */
const queueFirmware = (configWq: string): Stmt[] => [queue_work('fw_wq', 'load_work'), queue_work(configWq, 'config_work')];

const firmware = {
  cpus: 2,
  vars: { loaded: 0, configured: 0 },
  works: { load_work: { func: 'fw_load_fn' }, config_work: { func: 'config_fn' } },
  functions: { fw_load_fn: [flush_work('config_work'), inc('loaded')], config_fn: [inc('configured')] },
  tasks: [{ name: 'probe', cpu: 0, body: queueFirmware('fw_wq') }],
};

/** B12: on an ordered workqueue, an item waits for one queued after it. */
export const orderedWqItemWaitsForLaterItem = defineDesign({
  name: 'ordered-wq-item-waits-for-later-item',
  description:
    'A driver queues a firmware-load item and then a configuration item on its ordered workqueue (alloc_ordered_workqueue: one item at a time, in queue order), and the load item flushes the configuration item (B12). ' +
    'The configuration item stays inactive until the load item returns, and the load item sleeps until the configuration item has run: the unbound kworker waits for itself.',
  ...firmware,
  workqueues: { fw_wq: { flags: ['ORDERED'] } },
  expected: 'deadlock',
  twin: 'unbound-wq-item-waits-for-later-item',
});

/** Fixed: a workqueue that runs two items at once. */
export const unboundWqItemWaitsForLaterItem = defineDesign({
  ...firmware,
  name: 'unbound-wq-item-waits-for-later-item',
  description:
    'The same items on an unbound workqueue with max_active 2 (B12 fixed: the items need not run in order, so the queue need not be ordered). ' +
    'The configuration item is active at once; while the load item sleeps in flush_work(), kick_pool has woken the second unbound kworker, which runs it.',
  workqueues: { fw_wq: { flags: ['UNBOUND'], max_active: 2 } },
  // The probe is the only caller (not replicable): see the pair below for a second one.
  assumes: [{ why: 'probe is the only caller of queue_work on fw_wq: with a second, max_active 2 runs out (unbound-wq-second-caller-exhausts-max_active)' }],
  expected: 'verified',
  twin: 'ordered-wq-item-waits-for-later-item',
});

/**
 * Two callers: probe, and a firmware reload from sysfs, each queueing both
 * items; a third CPU is free for the unbound kworkers, so an item may start
 * between a caller's two queue_work() calls (as a preemption would let it).
 */
const firmwareTwoCallers = (configWq: string) => ({
  ...firmware,
  cpus: 3,
  tasks: [
    { name: 'probe', cpu: 0, replicable: true, body: queueFirmware(configWq) },
    { name: 'reload', cpu: 1, replicable: true, body: queueFirmware(configWq) },
  ],
});

/** B12 by max_active: the load item's slot and its re-queued instance's leave none for the item it flushes. */
export const unboundWqSecondCallerExhaustsMaxActive = defineDesign({
  ...firmwareTwoCallers('fw_wq'),
  name: 'unbound-wq-second-caller-exhausts-max_active',
  description:
    'unbound-wq-item-waits-for-later-item with a second caller (B12): a firmware reload on cpu1 queues the load and configuration items on fw_wq (unbound, max_active 2) too. ' +
    'While the load item runs, the reload queues it again: active, it takes the second slot and waits behind the running instance (non-reentrancy); the configuration item goes inactive. ' +
    'The running load item sleeps in flush_work() on it, and only a finishing item frees a slot: deadlock.',
  workqueues: { fw_wq: { flags: ['UNBOUND'], max_active: 2 } },
  expected: 'deadlock',
  twin: 'dependent-item-on-its-own-workqueue',
});

/** Fixed: the item that is waited for goes on a workqueue of its own, whose slots nothing waits in. */
export const dependentItemOnItsOwnWorkqueue = defineDesign({
  ...firmwareTwoCallers('cfg_wq'),
  name: 'dependent-item-on-its-own-workqueue',
  description:
    'The same two callers with the configuration item on a workqueue of its own, cfg_wq (B12 fixed for any number of callers). ' +
    'No item of cfg_wq ever waits, so the configuration item always gets a slot and a kworker, and the load item\'s flush_work() returns; ' +
    'fw_wq\'s two slots may both hold load instances (one running, one queued behind it) without starving anything.',
  workqueues: { fw_wq: { flags: ['UNBOUND'], max_active: 2 }, cfg_wq: { flags: ['UNBOUND'] } },
  expected: 'verified',
  twin: 'unbound-wq-second-caller-exhausts-max_active',
});

const keventd = {
  cpus: 1,
  vars: { loaded: 0, configured: 0 },
  works: { load_work: { func: 'fw_load_fn' }, config_work: { func: 'config_fn' } },
  functions: { fw_load_fn: [flush_work('config_work'), inc('loaded')], config_fn: [inc('configured')] },
  tasks: [{ name: 'probe', cpu: 0, replicable: true, body: [schedule_work('load_work'), schedule_work('config_work')] }],
};

/** B12 before cmwq: any item waiting for a later item of its workqueue on its CPU. */
export const keventdItemWaitsForLaterItem = defineDesign({
  name: 'keventd-item-waits-for-later-item',
  description:
    'Before cmwq (2.6.36) every workqueue had one thread per CPU, keventd\'s events/N for schedule_work(); here the firmware-load item flushes the configuration item queued after it on the same CPU (B12, pre-cmwq form). ' +
    'events/0 runs one item at a time, so the configuration item waits behind the load item, which waits for it: events/0 waits for itself.',
  ...keventd,
  flags: { wqModel: 'per-wq-threads' },
  expected: 'deadlock',
  twin: 'kworker-item-waits-for-later-item',
});

/** Fixed by cmwq: a second kworker runs the later item while the first sleeps. */
export const kworkerItemWaitsForLaterItem = defineDesign({
  ...keventd,
  name: 'kworker-item-waits-for-later-item',
  description:
    'The same two items on a concurrency-managed kernel (B12 fixed by cmwq in 2.6.36). ' +
    'When the load item sleeps in flush_work(), wq_worker_sleeping lets kworker/0:1 take the configuration item from cpu0\'s pool, and the flush returns.',
  expected: 'verified',
  twin: 'keventd-item-waits-for-later-item',
});

const statsWork = {
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' as const },
  vars: { stats: 0 },
  works: { stats_work: { func: 'stats_fn' } },
  functions: { stats_fn: [inc('stats')] },
};

/** B13: flush_work with a spinlock held. */
export const flushWorkUnderSpinLock = defineDesign({
  name: 'flush_work-under-spin_lock',
  description:
    'A task queues the statistics work and then waits for it with flush_work() while holding the spinlock priv->lock (B13: a sleeping wait in atomic context). ' +
    'start_flush_work() begins with might_sleep(), so it is "BUG: sleeping function called from invalid context" whether or not the work is still pending.',
  ...statsWork,
  tasks: [{ name: 'ethtool', cpu: 0, body: [schedule_work('stats_work'), spin_lock('priv->lock'), flush_work('stats_work'), spin_unlock('priv->lock')] }],
  expected: 'sleep-in-atomic',
  twin: 'flush_work-after-spin_unlock',
});

/** Fixed: flush outside the spinlock. */
export const flushWorkAfterSpinUnlock = defineDesign({
  ...statsWork,
  name: 'flush_work-after-spin_unlock',
  description:
    'The task releases priv->lock before flush_work() (B13 fixed). ' +
    'It sleeps in process context with preempt_count 0 until the kworker has run the statistics work.',
  tasks: [{ name: 'ethtool', cpu: 0, replicable: true, body: [schedule_work('stats_work'), spin_lock('priv->lock'), spin_unlock('priv->lock'), flush_work('stats_work')] }],
  expected: 'verified',
  twin: 'flush_work-under-spin_lock',
});
