/**
 * B21 for a work item (shared/kernel-semantics.md §6.1, §8;
 * kernel/workqueue.c process_one_work: "BUG: workqueue leaked lock or
 * atomic"): a work function must return with no lock held and
 * preempt_count as it found it.
 */
import { defineDesign, if_, inc, mutex_lock, mutex_unlock, v } from '../../dsl/design.ts';
import { schedule_work } from '../../dsl/workqueue.ts';

const statsBase = {
  cpus: 1,
  locks: { stats_mutex: 'mutex' as const },
  vars: { collected: 0, hw_error: 1 },
  works: { stats_work: { func: 'stats_fn' } },
  tasks: [{ name: 'probe', cpu: 0, replicable: true, body: [schedule_work('stats_work')] }],
};

/** The error path returns without mutex_unlock. */
export const workReturnsWithMutexHeld = defineDesign({
  name: 'work-returns-with-mutex-held',
  description:
    'The statistics work function takes stats_mutex and, on its hardware-error path, returns without releasing it (B21). ' +
    'process_one_work() checks lockdep_depth() after the function returns and reports "BUG: workqueue leaked lock or atomic" with the lock still held by the kworker.',
  ...statsBase,
  functions: { stats_fn: [mutex_lock('stats_mutex'), if_(v('hw_error'), [], [inc('collected'), mutex_unlock('stats_mutex')])] },
  expected: 'lock-leak',
  twin: 'work-unlocks-on-every-path',
});

export const workUnlocksOnEveryPath = defineDesign({
  ...statsBase,
  name: 'work-unlocks-on-every-path',
  description:
    'The error path jumps to the unlock like the normal path (B21 fixed: the usual goto out_unlock). ' +
    'The kworker returns from the function holding nothing, with preempt_count 0.',
  functions: { stats_fn: [mutex_lock('stats_mutex'), if_(v('hw_error'), [], [inc('collected')]), mutex_unlock('stats_mutex')] },
  expected: 'verified',
  twin: 'work-returns-with-mutex-held',
});
