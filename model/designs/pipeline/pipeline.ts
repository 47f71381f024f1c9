/**
 * Every mechanism at once (issue 3's combined design): an interrupt handler
 * schedules a tasklet, which arms a timer, whose callback queues work, which
 * takes a mutex that process context takes too. Each hand-off moves the job
 * one step further from interrupt context until it may sleep.
 */
import {
  defineDesign, inc, mutex_lock, mutex_unlock, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore,
  type Design,
} from '../../dsl/design.ts';
import { tasklet_schedule } from '../../dsl/tasklet.ts';
import { mod_timer } from '../../dsl/timer.ts';
import { schedule_work } from '../../dsl/workqueue.ts';

const base = {
  cpus: 2,
  options: { ticks: 1 },
  locks: { 'dev->lock': 'spinlock', 'dev->cfg_mutex': 'mutex' },
  vars: { 'dev->events': 0, 'dev->resets': 0 },
  tasklets: { 'dev->rx_tasklet': { func: 'rx_tasklet_fn' } },
  timers: { 'dev->watchdog': { func: 'watchdog_fn' } },
  works: { 'dev->reset_work': { func: 'reset_work_fn' } },
  irqs: [{
    name: 'dev',
    budget: 2,
    // Top half: acknowledge, count, defer the rest.
    handler: [spin_lock('dev->lock'), inc('dev->events'), spin_unlock('dev->lock'), tasklet_schedule('dev->rx_tasklet')],
  }],
  tasks: [{
    // An ioctl reconfiguring the device: sleeping lock outside, irq-safe spinlock inside.
    name: 'ioctl',
    cpu: 1,
    body: [
      mutex_lock('dev->cfg_mutex'),
      spin_lock_irqsave('dev->lock', 'flags'), inc('dev->events'), spin_unlock_irqrestore('dev->lock', 'flags'),
      mutex_unlock('dev->cfg_mutex'),
    ],
  }],
} as const;

const functions = {
  // Bottom half: softirq context, so plain spin_lock against the hardirq would be wrong (B3): irqsave.
  rx_tasklet_fn: [spin_lock_irqsave('dev->lock', 'flags'), inc('dev->events'), spin_unlock_irqrestore('dev->lock', 'flags'), mod_timer('dev->watchdog', 1)],
  // Timer callback: softirq context, cannot sleep, so it hands the reset to process context.
  watchdog_fn: [schedule_work('dev->reset_work')],
};

export const deferredWorkPipeline: Design = defineDesign({
  ...base,
  name: 'deferred-work-pipeline',
  description:
    'Every mechanism at once (issue 3): the dev interrupt (hardirq) schedules rx_tasklet (softirq), which arms the watchdog timer (TIMER softirq), whose callback queues reset_work (kworker, process context), which takes cfg_mutex, as the ioctl task does (B1, B8 and B21 all avoided). ' +
    'Each context takes dev->lock in the weakest form that is correct against the hard interrupt, and only the work item sleeps.',
  functions: {
    ...functions,
    reset_work_fn: [
      mutex_lock('dev->cfg_mutex'),
      spin_lock_irqsave('dev->lock', 'flags'), inc('dev->resets'), spin_unlock_irqrestore('dev->lock', 'flags'),
      mutex_unlock('dev->cfg_mutex'),
    ],
  },
  expected: 'verified',
  twin: 'deferred-work-pipeline-work-spin_lock',
});

/** The work item forgets that dev->lock is also an interrupt lock. */
export const deferredWorkPipelineBuggy: Design = defineDesign({
  ...base,
  name: 'deferred-work-pipeline-work-spin_lock',
  description:
    'The same pipeline, but reset_work takes dev->lock with plain spin_lock, as if process context only shared it with other tasks (B1). ' +
    'The dev interrupt can arrive on the kworker\'s CPU while it holds the lock, and the handler spins on it for ever.',
  functions: {
    ...functions,
    reset_work_fn: [
      mutex_lock('dev->cfg_mutex'),
      spin_lock('dev->lock'), inc('dev->resets'), spin_unlock('dev->lock'),
      mutex_unlock('dev->cfg_mutex'),
    ],
  },
  expected: 'deadlock',
  twin: 'deferred-work-pipeline',
});
