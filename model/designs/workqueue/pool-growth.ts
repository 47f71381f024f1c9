/**
 * Worker pools that grow (kernel/workqueue.c wq_worker_sleeping, kick_pool,
 * need_more_worker, may_start_working, manage_workers, create_worker;
 * shared/kernel-semantics-rt.md §4): when every running kworker of a bound
 * pool sleeps inside its work item while items are pending, the pool wakes
 * an idle kworker, and keeps one idle in reserve by creating another. So
 * items that wait for each other on an ordinary workqueue all run: the
 * converse of B65, where max_active (an ordered workqueue) keeps the later
 * item from ever starting.
 */
import { BUG_ON, complete_all, dec, defineDesign, eq, inc, msleep, v, wait_for_completion } from '../../dsl/design.ts';
import { schedule_work } from '../../dsl/workqueue.ts';

/**
 * The issue 12 design: a and b each sleep until `go` is completed; c runs on
 * a third kworker while they both sleep, and its BUG_ON fires there.
 */
export const wqThirdWorker = defineDesign({
  name: 'wq-third-worker',
  description:
    'Three items on system_wq, one CPU: a and b each count themselves blocked and sleep on a completion the probe signals later; c asserts that not both are blocked. ' +
    'cmwq does not let the pool stall while its kworkers sleep (the converse of B65): a sleeps, kick_pool wakes kworker/0:1 for b, b sleeps, kick_pool wakes a third kworker for c, and c finds blocked == 2: its BUG_ON fires.',
  cpus: 1,
  vars: { blocked: 0 },
  completions: { go: {} },
  works: { a: { func: 'fa' }, b: { func: 'fb' }, c: { func: 'fc' } },
  functions: {
    fa: [inc('blocked'), wait_for_completion('go'), dec('blocked')],
    fb: [inc('blocked'), wait_for_completion('go'), dec('blocked')],
    fc: [BUG_ON(eq(v('blocked'), 2))],
  },
  tasks: [{ name: 'probe', cpu: 0, body: [schedule_work('a'), schedule_work('b'), schedule_work('c'), msleep(1), complete_all('go')] }],
  expected: 'assertion',
  twin: 'wq-third-worker-completes',
});

/**
 * Its mirror: c completes `go` itself and the probe only queues. With two
 * kworkers per pool c would never run and a, b would hang; the kernel runs c
 * on a third kworker and all three finish.
 */
export const wqThirdWorkerCompletes = defineDesign({
  ...wqThirdWorker,
  name: 'wq-third-worker-completes',
  description:
    'The same pool, but c is the one that completes go, and the probe only queues the three items (the converse of B65: no max_active limit here). ' +
    'a and b sleep on kworker/0:0 and kworker/0:1; the pool grows, kworker/0:2 runs c, which wakes both, and all three items finish. Verified.',
  functions: { ...wqThirdWorker.functions, fc: [complete_all('go')] },
  tasks: [{ name: 'probe', cpu: 0, body: [schedule_work('a'), schedule_work('b'), schedule_work('c')] }],
  invariants: [{ name: 'a and b ran to the end', holds: eq(v('blocked'), 0), when: 'at-end' }],
  expected: 'verified',
  twin: 'wq-third-worker',
});
