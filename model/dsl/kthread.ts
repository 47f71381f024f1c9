/**
 * Builders for kernel threads (kernel/kthread.c). A thread is a design
 * task declared with `start: 'kthread_run'`; its body is the thread
 * function. The semantics are in model/kernel/kthread.ts.
 *
 *   tasks: [
 *     { name: 'probe', cpu: 0, body: [kthread_run('poller')] },
 *     { name: 'poller', cpu: 1, start: 'kthread_run', body: [
 *         while_(not(kthread_should_stop()), [...], { bound: 3 }) ] },
 *     { name: 'remove', cpu: 0, after: 'probe', body: [kthread_stop('poller')] },
 *   ]
 */
import type { Expr, Stmt } from './design.ts';

/** `kthread_run(fn, data, name)`: create the thread (task `name`) and wake it. Sleeps. */
export const kthread_run = (name: string): Stmt => ({ op: 'kthread_run', target: name });
/** `kthread_stop(k)`: tell the thread to stop, wake it, and sleep until it has exited. */
export const kthread_stop = (name: string): Stmt => ({ op: 'kthread_stop', target: name });
/** `kthread_should_stop()`: kthread_stop has been called on the running thread. */
export const kthread_should_stop = (): Expr => ({ ctx: 'kthread_should_stop' });
