/**
 * Task queues (2.4 include/linux/tqueue.h, kernel/context.c;
 * shared/kernel-semantics.md §3.4): a routine runs in the context of the
 * queue's runner, so one that sleeps belongs on keventd's queue
 * (schedule_task), not on tq_immediate. Work queues replaced both in 2.5.41.
 */
import { defineDesign, inc, mutex_lock, mutex_unlock } from '../../dsl/design.ts';
import { flush_scheduled_tasks, mark_bh, queue_task, schedule_task } from '../../dsl/bh.ts';

const phyBase = {
  cpus: 2,
  profile: '2.4' as const,
  locks: { phy_mutex: 'mutex' as const },
  vars: { link_changes: 0, ioctls: 0 },
  functions: { phy_change: [mutex_lock('phy_mutex'), inc('link_changes'), mutex_unlock('phy_mutex')] },
  tq_structs: { phy_task: { routine: 'phy_change' } },
  tasks: [{ name: 'ethtool', cpu: 1, replicable: true, body: [mutex_lock('phy_mutex'), inc('ioctls'), mutex_unlock('phy_mutex')] }],
};

/** B8: the PHY update deferred on tq_immediate runs in IMMEDIATE_BH, where it cannot sleep. */
export const tqImmediateSleeps = defineDesign({
  name: 'tq_immediate-routine-sleeps',
  description:
    'The link-change interrupt defers reading the PHY to a tq_struct on tq_immediate and marks IMMEDIATE_BH; the routine takes the PHY mutex (B8). ' +
    'tq_immediate runs from a bottom half, in softirq context, so the sleeping lock is "BUG: sleeping function called from invalid context" (Wilcox: task queues ran in the context of whoever ran them).',
  ...phyBase,
  irqs: [{ name: 'eth0', cpus: [0], handler: [queue_task('phy_task', 'tq_immediate'), mark_bh('IMMEDIATE_BH')], budget: 1 }],
  expected: 'sleep-in-atomic',
  twin: 'schedule_task-routine-sleeps',
});

/** Fixed: schedule_task() hands the routine to keventd, in process context. */
export const scheduleTaskSleeps = defineDesign({
  name: 'schedule_task-routine-sleeps',
  description:
    'The interrupt hands the same routine to keventd with schedule_task() (B8 fixed), the 2.4 ancestor of schedule_work() (Wilcox). ' +
    'keventd runs it in process context, where taking the mutex may sleep.',
  ...phyBase,
  irqs: [{ name: 'eth0', cpus: [0], handler: [schedule_task('phy_task')], budget: 1 }],
  expected: 'verified',
  twin: 'tq_immediate-routine-sleeps',
});

const linkwatchBase = {
  cpus: 2,
  profile: '2.4' as const,
  locks: { rtnl: 'mutex' as const },
  vars: { link_events: 0, downs: 0 },
  functions: { linkwatch_event: [mutex_lock('rtnl'), inc('link_events'), mutex_unlock('rtnl')] },
  tq_structs: { linkwatch_task: { routine: 'linkwatch_event' } },
  irqs: [{ name: 'eth0', cpus: [1], handler: [schedule_task('linkwatch_task')], budget: 1 }],
};

/** B12: flush_scheduled_tasks() under rtnl while a keventd job takes rtnl. */
export const flushUnderRtnl = defineDesign({
  name: 'flush_scheduled_tasks-under-rtnl',
  description:
    'A device-down path holds the rtnl lock (2.4\'s rtnl semaphore) and waits for keventd with flush_scheduled_tasks(), while the link-watch job queued by the interrupt takes rtnl itself (B12). ' +
    'keventd sleeps on rtnl inside the job, the flush sleeps until keventd finishes: the classic keventd deadlock that flush_scheduled_work() kept until cmwq.',
  ...linkwatchBase,
  tasks: [{ name: 'ifdown', cpu: 1, body: [mutex_lock('rtnl'), inc('downs'), flush_scheduled_tasks(), mutex_unlock('rtnl')] }],
  expected: 'deadlock',
  twin: 'flush_scheduled_tasks-after-rtnl',
});

/** Fixed: flush after dropping rtnl. */
export const flushAfterRtnl = defineDesign({
  ...linkwatchBase,
  name: 'flush_scheduled_tasks-after-rtnl',
  description:
    'The device-down path drops rtnl before flush_scheduled_tasks() (B12 fixed): the link-watch job can take rtnl and finish, ' +
    'and the flush returns once keventd has run it.',
  tasks: [{ name: 'ifdown', cpu: 1, body: [mutex_lock('rtnl'), inc('downs'), mutex_unlock('rtnl'), flush_scheduled_tasks()] }],
  expected: 'verified',
  twin: 'flush_scheduled_tasks-under-rtnl',
});
