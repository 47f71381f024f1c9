/**
 * Wilcox, "I'll Do It Later" §3.1: in 2.2/2.4 "timers, as well as the
 * immediate and periodic task queues, were run as a bottom half. Only one
 * bottom half could be run at a time." A timer callback and a bottom half
 * could share data without a lock; since 2.5 the timer runs in the per-CPU
 * TIMER_SOFTIRQ and the bottom half became a tasklet, and the two run in
 * parallel on different CPUs (shared/kernel-semantics.md §3.3, §5).
 */
import { assign, BUG_ON, defineDesign, inc, ne, v, type Stmt } from '../../dsl/design.ts';
import { mark_bh } from '../../dsl/bh.ts';
import { tasklet_schedule } from '../../dsl/tasklet.ts';
import { mod_timer } from '../../dsl/timer.ts';

/** The shared update, unguarded: `busy` catches two contexts inside it at once. */
const update: readonly Stmt[] = [BUG_ON(ne(v('port->busy'), 0)), assign('port->busy', 1), inc('port->events'), assign('port->busy', 0)];

/** Modern: the timer in TIMER_SOFTIRQ on cpu0, the receive work in a tasklet on cpu1. */
export const timerVsTaskletUnguarded = defineDesign({
  name: 'timer-vs-tasklet-unguarded',
  description:
    'A serial driver\'s poll timer and its receive bottom half update port->events without a lock, relying on 2.4\'s rule that only one bottom half, timers included, runs at a time (Wilcox). ' +
    'Ported to a modern kernel the timer runs in TIMER_SOFTIRQ on cpu0 and the receive work in a tasklet scheduled on cpu1: they run at the same time and the unguarded update is entered twice.',
  cpus: 2,
  options: { ticks: 1 },
  vars: { 'port->busy': 0, 'port->events': 0 },
  timers: { 'port->poll_timer': { func: 'poll_fn' } },
  tasklets: { 'port->rx_tasklet': { func: 'rx_fn' } },
  functions: { poll_fn: update, rx_fn: update },
  tasks: [{ name: 'open', cpu: 0, body: [mod_timer('port->poll_timer', 1)] }],
  irqs: [{ name: 'serial', cpus: [1], handler: [tasklet_schedule('port->rx_tasklet')], budget: 1 }],
  expected: 'assertion',
  twin: 'timer-vs-bh-unguarded-linux-2_4',
});

/** 2.4: the timer in TIMER_BH, the receive work in SERIAL_BH; global_bh_lock serialises them. */
export const timerVsBhUnguarded24 = defineDesign({
  name: 'timer-vs-bh-unguarded-linux-2_4',
  description:
    'The same driver on 2.4 (Wilcox): the poll timer runs from TIMER_BH and the receive work is SERIAL_BH, marked by the interrupt on cpu1. ' +
    'bh_action takes global_bh_lock, so the two never overlap, even on two CPUs, and the unguarded update is safe.',
  cpus: 2,
  profile: '2.4',
  options: { ticks: 1 },
  vars: { 'port->busy': 0, 'port->events': 0 },
  timers: { 'port->poll_timer': { func: 'poll_fn' } },
  bhs: { SERIAL_BH: 'rx_fn' },
  functions: { poll_fn: update, rx_fn: update },
  tasks: [{ name: 'open', cpu: 0, body: [mod_timer('port->poll_timer', 1)] }],
  irqs: [{ name: 'serial', cpus: [1], handler: [mark_bh('SERIAL_BH')], budget: 1 }],
  expected: 'verified',
  twin: 'timer-vs-tasklet-unguarded',
});
