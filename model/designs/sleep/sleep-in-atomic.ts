/**
 * B8: sleeping in atomic context (shared/kernel-semantics.md §4.3, §8;
 * kernel/sched/core.c __might_resched).
 */
import {
  defineDesign, inc, local_bh_disable, local_bh_enable, msleep, mutex_lock, mutex_unlock, spin_lock, spin_unlock,
} from '../../dsl/design.ts';

/** B8: mutex_lock() under a spinlock. */
export const mutexUnderSpinlock = defineDesign({
  name: 'mutex_lock-under-spin_lock',
  description:
    'A configuration path takes the device spinlock and then mutex_lock()s the firmware mutex inside it (B8). ' +
    'mutex_lock may sleep, and __might_resched fires as soon as it is called with preempt_count raised by the spinlock, ' +
    'whether or not the mutex is contended: "BUG: sleeping function called from invalid context".',
  cpus: 2,
  locks: { 'dev->lock': 'spinlock', 'fw_mutex': 'mutex' },
  vars: { fw_loads: 0 },
  tasks: [
    { name: 'configure', cpu: 0, replicable: true, body: [spin_lock('dev->lock'), mutex_lock('fw_mutex'), inc('fw_loads'), mutex_unlock('fw_mutex'), spin_unlock('dev->lock')] },
    { name: 'reload', cpu: 1, replicable: true, body: [mutex_lock('fw_mutex'), inc('fw_loads'), mutex_unlock('fw_mutex')] },
  ],
  expected: 'sleep-in-atomic',
  twin: 'mutex_lock-outside-spin_lock',
});

/** Fixed: the sleeping lock outside, the spinlock inside. */
export const mutexOutsideSpinlock = defineDesign({
  name: 'mutex_lock-outside-spin_lock',
  description:
    'The same paths with the mutex taken first and the spinlock nested inside it (B8 fixed). ' +
    'Sleeping happens only in preemptible task context; the spinlock section never sleeps.',
  cpus: 2,
  locks: { 'dev->lock': 'spinlock', 'fw_mutex': 'mutex' },
  vars: { fw_loads: 0 },
  tasks: [
    { name: 'configure', cpu: 0, replicable: true, body: [mutex_lock('fw_mutex'), spin_lock('dev->lock'), inc('fw_loads'), spin_unlock('dev->lock'), mutex_unlock('fw_mutex')] },
    { name: 'reload', cpu: 1, replicable: true, body: [mutex_lock('fw_mutex'), inc('fw_loads'), mutex_unlock('fw_mutex')] },
  ],
  expected: 'verified',
  twin: 'mutex_lock-under-spin_lock',
});

/** B8: msleep() with bottom halves disabled. */
export const msleepWithBhDisabled = defineDesign({
  name: 'msleep-with-bh-disabled',
  description:
    'A reset path disables bottom halves to keep the NET_RX handler away and then waits for the hardware with msleep() (B8). ' +
    'local_bh_disable raises the softirq count of preempt_count, so the task is atomic and must not sleep.',
  cpus: 1,
  vars: { resets: 0 },
  tasks: [{ name: 'reset', cpu: 0, body: [local_bh_disable(), msleep(10), inc('resets'), local_bh_enable()] }],
  expected: 'sleep-in-atomic',
  twin: 'msleep-with-bh-enabled',
});

export const msleepWithBhEnabled = defineDesign({
  name: 'msleep-with-bh-enabled',
  description:
    'The reset path sleeps first and disables bottom halves only around the update (B8 fixed). ' +
    'msleep runs in preemptible task context.',
  cpus: 1,
  vars: { resets: 0 },
  tasks: [{ name: 'reset', cpu: 0, body: [msleep(10), local_bh_disable(), inc('resets'), local_bh_enable()] }],
  expected: 'verified',
  twin: 'msleep-with-bh-disabled',
});
