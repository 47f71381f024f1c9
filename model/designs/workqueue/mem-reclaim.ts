/**
 * Forward progress under memory pressure (kernel/workqueue.c
 * maybe_create_worker, pool_mayday_timeout, send_mayday, rescuer_thread,
 * check_flush_dependency; shared/kernel-semantics-rt.md §4.3, B66): when a
 * pool cannot create a kworker, only the rescuers of WQ_MEM_RECLAIM
 * workqueues keep items moving, each taking its own workqueue's items and
 * running them one after another. An item on the memory-reclaim path that
 * waits for an item of a workqueue without a rescuer may wait for ever.
 */
import { defineDesign, eq, inc, v } from '../../dsl/design.ts';
import { flush_work, queue_work } from '../../dsl/workqueue.ts';

/**
 * B66: the writeback item on the reclaim workqueue queues a helper on
 * system_wq and flushes it. With kworker creation failing, the helper has
 * no rescuer: the kernel warns "workqueue: WQ_MEM_RECLAIM reclaim_wq:
 * writeback_fn is flushing !WQ_MEM_RECLAIM events:helper_fn", and the
 * flush never returns.
 */
export const memReclaimFlushesSystemWq = defineDesign({
  name: 'mem_reclaim-item-flushes-system_wq',
  description:
    'Under memory pressure a WQ_MEM_RECLAIM item (writeback) queues a helper on system_wq and flushes it (B66). ' +
    'The pool sleeps writeback, tries to create a kworker for the helper and fails; the mayday finds no rescuer for system_wq, so the helper never runs and writeback, blocked in flush_work, never returns.',
  cpus: 1,
  options: { memoryPressure: true },
  vars: { done: 0 },
  workqueues: { reclaim_wq: { flags: ['MEM_RECLAIM'] } },
  works: { writeback: { func: 'writeback_fn' }, helper: { func: 'helper_fn' } },
  functions: {
    writeback_fn: [queue_work('system_wq', 'helper'), flush_work('helper'), inc('done')],
    helper_fn: [inc('done')],
  },
  tasks: [{ name: 'kswapd', cpu: 0, body: [queue_work('reclaim_wq', 'writeback')] }],
  invariants: [{ name: 'writeback and its helper both ran', holds: eq(v('done'), 2), when: 'at-end' }],
  expected: 'deadlock',
  twin: 'mem_reclaim-item-flushes-its-own-reclaim-wq',
});

/**
 * Fixed as workqueue.rst asks: the helper gets a WQ_MEM_RECLAIM workqueue
 * of its own, whose rescuer runs it even when no kworker can be created
 * (the writeback item occupies its own workqueue's rescuer).
 */
export const memReclaimFlushesOwnReclaimWq = defineDesign({
  ...memReclaimFlushesSystemWq,
  name: 'mem_reclaim-item-flushes-its-own-reclaim-wq',
  description:
    'The same writeback item flushes a helper on a second WQ_MEM_RECLAIM workqueue (B66 fixed: mutually dependent reclaim items each get their own rescuer). ' +
    'When creating a kworker fails, the mayday wakes helper_wq\'s rescuer, which runs the helper; the flush returns. Verified, within every outcome of create_worker.',
  workqueues: { reclaim_wq: { flags: ['MEM_RECLAIM'] }, helper_wq: { flags: ['MEM_RECLAIM'] } },
  functions: {
    ...memReclaimFlushesSystemWq.functions,
    writeback_fn: [queue_work('helper_wq', 'helper'), flush_work('helper'), inc('done')],
  },
  expected: 'verified',
  twin: 'mem_reclaim-item-flushes-system_wq',
});
