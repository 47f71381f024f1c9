/**
 * B13 and B14d (shared/kernel-semantics.md §8): waiting for a tasklet's RUN
 * bit from a context that the running tasklet cannot get past.
 */
import { assign, defineDesign, eq, inc, v, wait_event, wake_up } from '../../dsl/design.ts';
import {
  tasklet_disable, tasklet_disable_in_atomic, tasklet_disable_nosync, tasklet_enable, tasklet_schedule,
} from '../../dsl/tasklet.ts';

const rxFunctions = { rx_action: [inc('rx_packets'), inc('rx_bytes')] };

/** B13: a hardirq spins in tasklet_disable_in_atomic on the tasklet it interrupted. */
export const disableInAtomicOverTasklet = defineDesign({
  name: 'tasklet_disable_in_atomic-in-hardirq',
  description:
    'The NIC\'s receive interrupt schedules the rx tasklet; its error interrupt calls tasklet_disable_in_atomic() to stop receive processing, on the same CPU (B13). ' +
    'If the error interrupt arrives while rx_action runs in softirq context below it, the spinning wait for RUN can never end: ' +
    'the tasklet cannot continue until the hardirq returns.',
  cpus: 1,
  vars: { rx_packets: 0, rx_bytes: 0, errors: 0 },
  functions: rxFunctions,
  tasklets: { rx_tasklet: { func: 'rx_action' } },
  tasks: [],
  irqs: [
    { name: 'eth0-rx', handler: [tasklet_schedule('rx_tasklet')], budget: 1 },
    { name: 'eth0-err', handler: [tasklet_disable_in_atomic('rx_tasklet'), inc('errors'), tasklet_enable('rx_tasklet')], budget: 1 },
  ],
  expected: 'deadlock',
  twin: 'tasklet_disable_nosync-in-hardirq',
});

/** Fixed: the hardirq only raises the count; it does not wait. */
export const disableNosyncOverTasklet = defineDesign({
  ...disableInAtomicOverTasklet,
  name: 'tasklet_disable_nosync-in-hardirq',
  description:
    'The error interrupt uses tasklet_disable_nosync(), which only raises the tasklet\'s count (B13 fixed). ' +
    'A hardirq must never wait for work that only the CPU it interrupted can finish; a running rx_action completes after the interrupt returns, ' +
    'and a scheduled one is requeued until the count drops again.',
  irqs: [
    { name: 'eth0-rx', handler: [tasklet_schedule('rx_tasklet')], budget: 1 },
    { name: 'eth0-err', handler: [tasklet_disable_nosync('rx_tasklet'), inc('errors'), tasklet_enable('rx_tasklet')], budget: 1 },
  ],
  expected: 'verified',
  twin: 'tasklet_disable_in_atomic-in-hardirq',
});

const stopRx = { rx_stopped: 0, rx_packets: 0 };
const restart = [{ name: 'reset', cpu: 0, body: [wait_event('reset_wq', eq(v('rx_stopped'), 1)), assign('rx_stopped', 0), tasklet_enable('rx_tasklet')] }];

/** B14d: before 5.13, tasklet_disable() inside the tasklet's own func spins on its own RUN bit. */
export const disableInOwnFunc = defineDesign({
  name: 'tasklet_disable-in-own-func',
  description:
    'On a ring overflow the rx tasklet stops itself with tasklet_disable(&rx_tasklet) and leaves the restart to a reset task (B14, case d), on a pre-5.13 kernel where the wait spins. ' +
    'tasklet_disable waits for the RUN bit to clear, but RUN is held by this very call of rx_action: the softirq spins forever on itself.',
  cpus: 1,
  flags: { taskletWait: 'spin' },
  vars: stopRx,
  waitqueues: { reset_wq: {} },
  functions: { rx_action: [inc('rx_packets'), tasklet_disable('rx_tasklet'), assign('rx_stopped', 1), wake_up('reset_wq')] },
  tasklets: { rx_tasklet: { func: 'rx_action' } },
  tasks: restart,
  irqs: [{ name: 'eth0', handler: [tasklet_schedule('rx_tasklet')], budget: 1 }],
  expected: 'deadlock',
  twin: 'tasklet_disable_nosync-in-own-func',
});

/** Fixed: tasklet_disable_nosync from inside func. */
export const disableNosyncInOwnFunc = defineDesign({
  ...disableInOwnFunc,
  name: 'tasklet_disable_nosync-in-own-func',
  description:
    'The rx tasklet stops itself with tasklet_disable_nosync() (B14, case d, fixed): the count goes up and rx_action returns normally, ' +
    'so later schedules are requeued, and the reset task re-enables it once woken. No wait on the running func is needed from inside it.',
  functions: { rx_action: [inc('rx_packets'), tasklet_disable_nosync('rx_tasklet'), assign('rx_stopped', 1), wake_up('reset_wq')] },
  expected: 'verified',
  twin: 'tasklet_disable-in-own-func',
});
