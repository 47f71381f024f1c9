/**
 * B10: freeing the object a timer lives in while its callback may still run
 * or the timer may still be re-armed (shared/kernel-semantics.md §5, §8;
 * locking.rst "Racing Timers"; the 6.2 timer_shutdown series). The timer
 * and the data its callback touches live in `priv`; kfree(priv) followed by
 * any touch is KASAN's slab-use-after-free, and freeing it with the timer
 * still pending is ODEBUG's "free active".
 */
import {
  complete, defineDesign, inc, kfree, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, wait_for_completion, type Stmt,
} from '../../dsl/design.ts';
import { add_timer_on, del_timer, del_timer_sync, mod_timer, timer_shutdown_sync } from '../../dsl/timer.ts';

const statsStruct = { priv: { members: ['priv->stats', 'priv->timer'] } };

/** close(): the driver arms the stats timer on cpu1, updates the stats itself, tears the timer down with `teardown` and frees priv. */
const statsDriver = (teardown: Stmt) => [{
  name: 'driver',
  cpu: 0,
  body: [
    add_timer_on('priv->timer', 1, 1),
    spin_lock_bh('stats_lock'), inc('priv->stats'), spin_unlock_bh('stats_lock'),
    teardown, kfree('priv'),
  ],
}];

/** B10, and Wilcox's timer rule: del_timer does not wait for a running callback. */
export const delTimerThenKfree = defineDesign({
  name: 'del_timer-then-kfree',
  description:
    'A driver\'s statistics timer and process context both update priv->stats under stats_lock (spin_lock_bh in the task, spin_lock in the callback); the timer is armed on cpu1, and close() on cpu0 calls del_timer() and then kfree(priv) (B10; Wilcox: del_timer vs del_timer_sync). ' +
    'del_timer only deactivates a pending timer: if the callback has already started on cpu1 it returns 0 at once, priv is freed, and the callback goes on to touch freed memory.',
  cpus: 2,
  options: { ticks: 1 },
  locks: { stats_lock: 'spinlock' },
  vars: { 'priv->stats': 0 },
  structs: statsStruct,
  timers: { 'priv->timer': { func: 'stats_fn' } },
  functions: { stats_fn: [spin_lock('stats_lock'), inc('priv->stats'), spin_unlock('stats_lock')] },
  tasks: statsDriver(del_timer('priv->timer')),
  expected: 'use-after-free',
  twin: 'del_timer_sync-then-kfree',
});

/** Fixed: del_timer_sync waits until the callback runs nowhere. */
export const delTimerSyncThenKfree = defineDesign({
  ...delTimerThenKfree,
  name: 'del_timer_sync-then-kfree',
  description:
    'The same driver tears the timer down with del_timer_sync() before kfree(priv) (B10 fixed; Wilcox: del_timer_sync). ' +
    'It deactivates the timer and spins while cpu1\'s base is running the callback, so when it returns the callback has finished and cannot be re-armed by anyone: priv is free to go.',
  tasks: statsDriver(del_timer_sync('priv->timer')),
  expected: 'verified',
  twin: 'del_timer-then-kfree',
});

const pollStruct = { priv: { members: ['priv->poll_timer'] } };

/** B10: a self-re-arming timer survives a plain del_timer. */
export const selfRearmingDelTimer = defineDesign({
  name: 'self-rearming-timer-del_timer',
  description:
    'A polling timer re-arms itself from its callback with mod_timer(), and the driver stops it with del_timer() before kfree(priv) (B10: a self-re-arming timer survives del_timer). ' +
    'If the callback is running on cpu1 when del_timer is called, del_timer finds nothing pending and returns; the callback then re-arms the timer, either before kfree(priv) (a pending timer is freed) or after it (the re-arming writes freed memory).',
  cpus: 2,
  options: { ticks: 1 },
  vars: { polls: 0 },
  structs: pollStruct,
  timers: { 'priv->poll_timer': { func: 'poll_fn' } },
  functions: { poll_fn: [inc('polls'), mod_timer('priv->poll_timer', 1)] },
  tasks: [{ name: 'driver', cpu: 0, body: [add_timer_on('priv->poll_timer', 1, 1), del_timer('priv->poll_timer'), kfree('priv')] }],
  expected: 'use-after-free',
  twin: 'self-rearming-timer-del_timer_sync',
});

/** Fixed: del_timer_sync handles a callback that re-arms its own timer. */
export const selfRearmingDelTimerSync = defineDesign({
  ...selfRearmingDelTimer,
  name: 'self-rearming-timer-del_timer_sync',
  description:
    'The driver stops the self-re-arming polling timer with del_timer_sync() (B10 fixed). ' +
    'It waits for a running callback to return and only then deactivates the timer, which removes the arming the callback just made; the timer re-arms only itself, so nothing arms it again.',
  tasks: [{ name: 'driver', cpu: 0, body: [add_timer_on('priv->poll_timer', 1, 1), del_timer_sync('priv->poll_timer'), kfree('priv')] }],
  expected: 'verified',
  twin: 'self-rearming-timer-del_timer',
});

const watchdogStruct = { priv: { members: ['priv->timeouts', 'priv->watchdog'] } };

/** B10: another path re-arms the timer after del_timer_sync returned. */
export const delTimerSyncRearmedByRx = defineDesign({
  name: 'del_timer_sync-rearmed-by-rx',
  description:
    'The receive path on cpu1 pushes the transmit watchdog forward with mod_timer() on every packet; remove() on cpu0 calls del_timer_sync(), waits for the receive path to finish (a completion), and frees priv (B10). ' +
    'del_timer_sync cannot stop a concurrent re-arm: the receive path arms the watchdog again after it returned, and kfree(priv) frees a pending timer (ODEBUG: free active).',
  cpus: 2,
  options: { ticks: 1 },
  vars: { 'priv->timeouts': 0 },
  structs: watchdogStruct,
  completions: { rx_done: {} },
  timers: { 'priv->watchdog': { func: 'watchdog_fn' } },
  functions: { watchdog_fn: [inc('priv->timeouts')] },
  tasks: [
    { name: 'rx', cpu: 1, body: [mod_timer('priv->watchdog', 1), complete('rx_done')] },
    { name: 'remove', cpu: 0, body: [del_timer_sync('priv->watchdog'), wait_for_completion('rx_done'), kfree('priv')] },
  ],
  expected: 'use-after-free',
  twin: 'timer_shutdown_sync-vs-rx-rearm',
});

/** Fixed (6.2+): timer_shutdown_sync makes every later arming a no-op. */
export const timerShutdownSyncVsRearm = defineDesign({
  ...delTimerSyncRearmedByRx,
  name: 'timer_shutdown_sync-vs-rx-rearm',
  description:
    'remove() uses timer_shutdown_sync() (B10 fixed with the 6.2 timer_shutdown series): it sets timer->function to NULL under the base lock, waits for a running callback and deactivates the timer. ' +
    'A re-arm by the receive path after that is silently ignored, so the timer is idle when priv is freed.',
  tasks: [
    { name: 'rx', cpu: 1, body: [mod_timer('priv->watchdog', 1), complete('rx_done')] },
    { name: 'remove', cpu: 0, body: [timer_shutdown_sync('priv->watchdog'), wait_for_completion('rx_done'), kfree('priv')] },
  ],
  expected: 'verified',
  twin: 'del_timer_sync-rearmed-by-rx',
});
