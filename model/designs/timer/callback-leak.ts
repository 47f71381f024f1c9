/**
 * B21 for timers: a callback that returns with a lock held
 * (shared/kernel-semantics.md §8; kernel/time/timer.c call_timer_fn, which
 * compares preempt_count before and after the callback and warns
 * "timer: %pS preempt leak: %08x -> %08x").
 */
import { assign, defineDesign, eq, if_, inc, spin_lock, spin_unlock, v } from '../../dsl/design.ts';
import { mod_timer } from '../../dsl/timer.ts';

/** B21: the error path of the callback forgets spin_unlock. */
export const timerCallbackLeaksLock = defineDesign({
  name: 'timer-callback-leaks-spin_lock',
  description:
    'A link-check timer takes priv->lock and, on its error path (the device interrupt has flagged an error), returns without spin_unlock (B21). ' +
    'call_timer_fn sees preempt_count changed across the callback: "timer: link_check_fn preempt leak", with priv->lock still held.',
  cpus: 1,
  options: { ticks: 1 },
  locks: { 'priv->lock': 'spinlock' },
  vars: { 'priv->errors': 0, 'priv->checks': 0 },
  timers: { 'priv->link_timer': { func: 'link_check_fn' } },
  functions: {
    link_check_fn: [
      spin_lock('priv->lock'),
      if_(eq(v('priv->errors'), 0), [inc('priv->checks'), spin_unlock('priv->lock')]),
    ],
  },
  tasks: [{ name: 'open', cpu: 0, body: [mod_timer('priv->link_timer', 1)] }],
  irqs: [{ name: 'dev', handler: [assign('priv->errors', 1)], budget: 1 }],
  expected: 'lock-leak',
  twin: 'timer-callback-unlocks-on-every-path',
});

/** Fixed: every path of the callback unlocks. */
export const timerCallbackUnlocks = defineDesign({
  ...timerCallbackLeaksLock,
  name: 'timer-callback-unlocks-on-every-path',
  description:
    'The same link-check timer releases priv->lock on both paths (B21 fixed): the callback returns with the preempt count it was called with and no lock held.',
  functions: {
    link_check_fn: [
      spin_lock('priv->lock'),
      if_(eq(v('priv->errors'), 0), [inc('priv->checks')]),
      spin_unlock('priv->lock'),
    ],
  },
  expected: 'verified',
  twin: 'timer-callback-leaks-spin_lock',
});
