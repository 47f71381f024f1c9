/**
 * Timer pull (6.9+, kernel/time/timer_migration.c; 7ee988770326 "timers:
 * Implement the hierarchical pull model"; shared/kernel-semantics-rt.md §3):
 * a non-pinned timer whose CPU is idle when it is due is expired by another,
 * busy CPU, in that CPU's own TIMER softirq, on top of whatever it was
 * running. A callback written for "the CPU that armed it" meets contexts of
 * every CPU. The same design is correct before 6.9, where the timer expires
 * on the CPU whose base it sits on.
 */
import { defineDesign, inc, spin_lock, spin_unlock } from '../../dsl/design.ts';
import { mod_timer } from '../../dsl/timer.ts';

/**
 * The issue 12 design on 6.12: `armer` arms t on cpu0 and is done, so cpu0
 * goes idle; `user` on cpu1 takes L with plain spin_lock (the callback is
 * the only other user, and "it runs on cpu0"). cpu1's tick pulls t and its
 * TIMER softirq runs fn on top of `user`, which holds L: an AA deadlock.
 */
export const timerRemoteExpiry = defineDesign({
  name: 'timer-remote-expiry',
  description:
    'A timer armed on cpu0, which then goes idle; a task on cpu1 takes the callback\'s lock L with plain spin_lock, since the callback "runs on cpu0" (6.12). ' +
    'Since 6.9 an idle CPU\'s non-pinned timers are expired by a busy CPU (timer pull; TM2 no longer holds): cpu1\'s tick raises TIMER_SOFTIRQ for cpu0\'s timer, and at irq_exit fn runs on cpu1 on top of the task that holds L: B2, an AA deadlock.',
  profile: '6.12',
  cpus: 2,
  options: { ticks: 2 },
  locks: { L: 'spinlock' },
  vars: { x: 0 },
  timers: { t: { func: 'fn' } },
  functions: { fn: [spin_lock('L'), inc('x'), spin_unlock('L')] },
  tasks: [
    { name: 'armer', cpu: 0, body: [mod_timer('t', 1)] },
    { name: 'user', cpu: 1, body: [spin_lock('L'), inc('x'), spin_unlock('L'), spin_lock('L'), inc('x'), spin_unlock('L')] },
  ],
  expected: 'deadlock',
  twin: 'timer-remote-expiry-v6_6',
});

/**
 * The same code on 6.6 LTS: before timer pull, an idle CPU's timers wake it
 * and expire there, so fn and `user` only ever meet across CPUs, where the
 * plain spin_lock is enough: verified. (On 6.12 the fix is spin_lock_bh in
 * the task, or a TIMER_PINNED timer if fn must run on cpu0.)
 */
export const timerRemoteExpiry66 = defineDesign({
  ...timerRemoteExpiry,
  name: 'timer-remote-expiry-v6_6',
  description:
    'The same driver on 6.6 LTS (before timer pull, 6.9): cpu0\'s timer expires on cpu0, waking it if it is idle (TM2); fn and the task on cpu1 meet only across CPUs, where plain spin_lock suffices, so B2 cannot happen. Verified.',
  profile: '6.6',
  expected: 'verified',
  twin: 'timer-remote-expiry',
});
