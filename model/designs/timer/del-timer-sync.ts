/**
 * B9: del_timer_sync() waiting for a callback that cannot finish
 * (shared/kernel-semantics.md §5, §8; the timer_delete_sync kernel-doc in
 * kernel/time/timer.c). del_timer_sync spins while the timer's base has it
 * as running_timer, so anything the callback waits for, directly or through
 * an interrupt stacked on it, must not be held by the caller.
 */
import { call, defineDesign, inc, spin_lock, spin_lock_bh, spin_lock_irq, spin_unlock, spin_unlock_bh, spin_unlock_irq } from '../../dsl/design.ts';
import { del_timer, del_timer_sync, mod_timer } from '../../dsl/timer.ts';

const statsFn = [spin_lock('priv->lock'), inc('priv->timeouts'), spin_unlock('priv->lock')];

/** B9: the callback takes priv->lock, which the deleter holds while it waits. */
export const delTimerSyncUnderLock = defineDesign({
  name: 'del_timer_sync-under-spin_lock_bh',
  description:
    'A watchdog timer armed on cpu1 takes priv->lock in its callback; the teardown path on cpu0 takes spin_lock_bh(&priv->lock) and calls del_timer_sync() inside it (B9). ' +
    'If the callback has started, del_timer_sync spins while cpu1\'s base->running_timer is the watchdog, and the callback spins on the lock the waiter holds: a cycle through the timer.',
  cpus: 2,
  options: { ticks: 1 },
  locks: { 'priv->lock': 'spinlock' },
  vars: { 'priv->timeouts': 0, 'priv->stopped': 0 },
  timers: { 'priv->watchdog': { func: 'watchdog_fn' } },
  functions: { watchdog_fn: statsFn },
  tasks: [
    { name: 'open', cpu: 1, body: [mod_timer('priv->watchdog', 1)] },
    { name: 'close', cpu: 0, body: [spin_lock_bh('priv->lock'), del_timer_sync('priv->watchdog'), inc('priv->stopped'), spin_unlock_bh('priv->lock')] },
  ],
  expected: 'deadlock',
  twin: 'del_timer_sync-before-spin_lock_bh',
});

/** Fixed: wait for the callback first, then take the lock. */
export const delTimerSyncBeforeLock = defineDesign({
  ...delTimerSyncUnderLock,
  name: 'del_timer_sync-before-spin_lock_bh',
  description:
    'The same teardown calls del_timer_sync() before taking priv->lock (B9 fixed, the kernel-doc rule: the caller must not hold locks the callback needs). ' +
    'The callback may still be running when del_timer_sync is called; it takes priv->lock, which is free, returns, and del_timer_sync returns after it.',
  tasks: [
    { name: 'open', cpu: 1, body: [mod_timer('priv->watchdog', 1)] },
    { name: 'close', cpu: 0, body: [del_timer_sync('priv->watchdog'), spin_lock_bh('priv->lock'), inc('priv->stopped'), spin_unlock_bh('priv->lock')] },
  ],
  expected: 'verified',
  twin: 'del_timer_sync-under-spin_lock_bh',
});

/** B9a: the callback stops its own timer with del_timer_sync. */
export const delTimerSyncInOwnCallback = defineDesign({
  name: 'del_timer_sync-in-own-callback',
  description:
    'The watchdog callback handles a fatal error by calling the driver\'s stop routine, which does del_timer_sync() on the watchdog itself (B9, case a). ' +
    'The callback is the running_timer that del_timer_sync waits for, on the same CPU: the softirq spins on itself for ever.',
  cpus: 1,
  options: { ticks: 1 },
  vars: { 'priv->timeouts': 0, 'priv->stopped': 0 },
  timers: { 'priv->watchdog': { func: 'watchdog_fn' } },
  functions: {
    stop: [del_timer_sync('priv->watchdog'), inc('priv->stopped')],
    watchdog_fn: [inc('priv->timeouts'), call('stop')],
  },
  tasks: [{ name: 'open', cpu: 0, body: [mod_timer('priv->watchdog', 1)] }],
  expected: 'deadlock',
  twin: 'del_timer-in-own-callback',
});

/** Fixed: from the callback, a plain del_timer (the callback does not re-arm). */
export const delTimerInOwnCallback = defineDesign({
  ...delTimerSyncInOwnCallback,
  name: 'del_timer-in-own-callback',
  description:
    'The stop routine called from the callback uses del_timer(), which never waits (B9 case a, fixed): the timer was detached before its callback started, and the callback does not re-arm it, so nothing is left to wait for.',
  functions: {
    stop: [del_timer('priv->watchdog'), inc('priv->stopped')],
    watchdog_fn: [inc('priv->timeouts'), call('stop')],
  },
  expected: 'verified',
  twin: 'del_timer_sync-in-own-callback',
});

/** B9b: del_timer_sync from a hardirq handler. */
export const delTimerSyncInHardirq = defineDesign({
  name: 'del_timer_sync-in-hardirq',
  description:
    'The link-down interrupt stops the polling timer with del_timer_sync() from the hard irq handler (B9, case b). ' +
    'If the interrupt arrived on top of the timer\'s own callback it would spin for ever, so the kernel warns: WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE)).',
  cpus: 1,
  options: { ticks: 1 },
  vars: { polls: 0, link_down: 0 },
  timers: { poll_timer: { func: 'poll_fn' } },
  functions: { poll_fn: [inc('polls')] },
  tasks: [{ name: 'open', cpu: 0, body: [mod_timer('poll_timer', 1)] }],
  irqs: [{ name: 'link', handler: [inc('link_down'), del_timer_sync('poll_timer')], budget: 1 }],
  expected: 'assertion',
  twin: 'del_timer_sync-in-hardirq-irqsafe',
});

/** Fixed: an IRQSAFE timer, whose callback runs with irqs off, so no interrupt can stack on it. */
export const delTimerSyncInHardirqIrqsafe = defineDesign({
  ...delTimerSyncInHardirq,
  name: 'del_timer_sync-in-hardirq-irqsafe',
  description:
    'The polling timer is set up with TIMER_IRQSAFE (B9 case b, fixed): its callback runs with interrupts disabled, so the link interrupt never interrupts it, and del_timer_sync is allowed in hardirq context.',
  timers: { poll_timer: { func: 'poll_fn', flags: ['IRQSAFE'] } },
  expected: 'verified',
  twin: 'del_timer_sync-in-hardirq',
});

/** B9c: the kernel-doc scenario of timer_delete_sync. */
export const delTimerSyncUnderIrqLock = defineDesign({
  name: 'del_timer_sync-under-spin_lock_irq',
  description:
    'The kernel-doc case of timer_delete_sync (B9, case c): cpu0 holds spin_lock_irq(&dev->lock), a lock the device interrupt takes, and calls del_timer_sync(); the timer callback itself never touches that lock. ' +
    'On cpu1 the interrupt arrives on top of the running callback and spins on dev->lock; the callback cannot return under it, so cpu0 waits for ever.',
  cpus: 2,
  options: { ticks: 1 },
  locks: { 'dev->lock': 'spinlock' },
  vars: { events: 0, expired: 0 },
  timers: { 'dev->timer': { func: 'timer_fn' } },
  functions: { timer_fn: [inc('expired')] },
  tasks: [
    { name: 'arm', cpu: 1, body: [mod_timer('dev->timer', 1)] },
    { name: 'remove', cpu: 0, body: [spin_lock_irq('dev->lock'), del_timer_sync('dev->timer'), spin_unlock_irq('dev->lock')] },
  ],
  irqs: [{ name: 'dev', cpus: [1], handler: [spin_lock('dev->lock'), inc('events'), spin_unlock('dev->lock')], budget: 1 }],
  expected: 'deadlock',
  twin: 'del_timer_sync-under-spin_lock_irq-irqsafe',
});

/** Fixed: a TIMER_IRQSAFE timer; the kernel-doc rule is for !irqsafe timers. */
export const delTimerSyncUnderIrqLockIrqsafe = defineDesign({
  ...delTimerSyncUnderIrqLock,
  name: 'del_timer_sync-under-spin_lock_irq-irqsafe',
  description:
    'The same driver with the timer set up as TIMER_IRQSAFE (B9 case c, fixed; the kernel-doc rule is for !irqsafe timers). ' +
    'The callback runs with interrupts off, so the device interrupt can spin on dev->lock only before or after it, never on top of it, and del_timer_sync always sees the callback finish.',
  timers: { 'dev->timer': { func: 'timer_fn', flags: ['IRQSAFE'] } },
  expected: 'verified',
  twin: 'del_timer_sync-under-spin_lock_irq',
});
