/**
 * B17, rwlock read recursion with a waiting writer (shared/kernel-semantics.md
 * §4.2, §8; kernel/locking/qrwlock.c `queued_read_lock_slowpath`): queued
 * rwlocks are fair to writers in task context and reader-biased in
 * interrupt context.
 */
import { defineDesign, inc, read_lock, read_unlock, write_lock, write_unlock, type Design } from '../dsl/design.ts';

const writer = { name: 'updater', cpu: 1, replicable: true, body: [write_lock('L'), inc('generation'), write_unlock('L')] };

/** A task read-locks L twice (nested) while a writer on cpu1 queues in between. */
export const rwlockReadRecursionTask: Design = defineDesign({
  name: 'rwlock-read-recursion-task',
  description:
    'A task on cpu0 takes read_lock(&L) and, in a nested call, read_lock(&L) again; a task on cpu1 takes write_lock(&L). ' +
    'B17: once the writer has taken the qrwlock wait lock and set _QW_WAITING, the second task-context read_lock queues behind it, and the writer waits for the first read to be released: deadlock (reader-biased rwlocks before ≈3.16 allowed it).',
  cpus: 2,
  locks: { L: 'rwlock' },
  vars: { generation: 0, lookups: 0 },
  tasks: [
    { name: 'lookup', cpu: 0, replicable: true, body: [read_lock('L'), read_lock('L'), inc('lookups'), read_unlock('L'), read_unlock('L')] },
    writer,
  ],
  expected: 'deadlock',
  twin: 'rwlock-read-recursion-hardirq',
});

/** The nested read comes from eth0's handler over the task, on the same CPU. */
export const rwlockReadRecursionHardirq: Design = defineDesign({
  ...rwlockReadRecursionTask,
  name: 'rwlock-read-recursion-hardirq',
  description:
    'A task on cpu0 holds read_lock(&L) with irqs on; the eth0 handler, pinned to cpu0, takes read_lock(&L) over it; a task on cpu1 takes write_lock(&L). ' +
    'B17 does not apply: a reader with in_interrupt() waits only while a writer holds the lock, not while one waits (queued_read_lock_slowpath), so the handler reads, returns, and the writer gets L after the task releases it. ' +
    'The line is pinned to cpu0: on cpu1 the handler could interrupt the writer holding L with irqs on (B18).',
  tasks: [
    { name: 'lookup', cpu: 0, replicable: true, body: [read_lock('L'), inc('lookups'), read_unlock('L')] },
    writer,
  ],
  irqs: [{ name: 'eth0', cpus: [0], handler: [read_lock('L'), inc('lookups'), read_unlock('L')], budget: 1 }],
  expected: 'verified',
  twin: 'rwlock-read-recursion-task',
});
