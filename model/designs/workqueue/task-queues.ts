/**
 * Task queues → work queues (issue 5; Wilcox, "I'll Do It Later";
 * shared/kernel-semantics.md §3.4, §6): the same deferred PHY job, on 2.4's
 * tq_immediate, where it runs in a bottom half and may not sleep, and as a
 * work item, which runs in a kworker in process context and may.
 */
import { defineDesign, inc, mutex_lock, mutex_unlock } from '../../dsl/design.ts';
import { mark_bh, queue_task } from '../../dsl/bh.ts';
import { schedule_work } from '../../dsl/workqueue.ts';

const phyJob = {
  cpus: 2,
  locks: { phy_mutex: 'mutex' as const },
  vars: { link_changes: 0, ioctls: 0 },
  functions: { phy_change: [mutex_lock('phy_mutex'), inc('link_changes'), mutex_unlock('phy_mutex')] },
  tasks: [{ name: 'ethtool', cpu: 0, replicable: true, body: [mutex_lock('phy_mutex'), inc('ioctls'), mutex_unlock('phy_mutex')] }],
};

/** B8: the job on tq_immediate (2.4) runs from IMMEDIATE_BH. */
export const tqJobInTqImmediate = defineDesign({
  name: 'tq-job-in-tq_immediate',
  description:
    'The link-change interrupt defers the PHY update, which takes phy_mutex, to a tq_struct on 2.4\'s tq_immediate and marks IMMEDIATE_BH (B8). ' +
    'The bottom half runs it in softirq context, where the sleeping lock is "BUG: sleeping function called from invalid context" (the same job as tq_immediate-routine-sleeps).',
  ...phyJob,
  profile: '2.4',
  tq_structs: { phy_task: { routine: 'phy_change' } },
  irqs: [{ name: 'eth0', cpus: [1], handler: [queue_task('phy_task', 'tq_immediate'), mark_bh('IMMEDIATE_BH')], budget: 1 }],
  expected: 'sleep-in-atomic',
  twin: 'tq-job-as-work-item',
});

/** Fixed: the same job as a work item. */
export const tqJobAsWorkItem = defineDesign({
  name: 'tq-job-as-work-item',
  description:
    'The interrupt queues the same PHY job as a work item with schedule_work() (B8 fixed the way 2.5.41 replaced task queues). ' +
    'A kworker on cpu1 runs it in process context with irqs and bottom halves on, so taking phy_mutex may sleep while ethtool holds it on cpu0.',
  ...phyJob,
  works: { phy_work: { func: 'phy_change' } },
  irqs: [{ name: 'eth0', cpus: [1], handler: [schedule_work('phy_work')], budget: 1 }],
  expected: 'verified',
  twin: 'tq-job-in-tq_immediate',
});
