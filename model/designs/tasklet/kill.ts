/**
 * B14a–c (shared/kernel-semantics.md §8; kernel/softirq.c tasklet_kill):
 * killing a tasklet from interrupt context, killing a disabled scheduled
 * tasklet, and freeing a tasklet that its interrupt source can still
 * schedule.
 */
import {
  assign, defineDesign, if_, inc, kfree, spin_lock, spin_lock_irq, spin_unlock, spin_unlock_irq, v,
} from '../../dsl/design.ts';
import { tasklet_disable, tasklet_enable, tasklet_kill, tasklet_schedule } from '../../dsl/tasklet.ts';

/** B14a: tasklet_kill from a hardirq handler. */
export const killFromHardirq = defineDesign({
  name: 'tasklet_kill-from-hardirq',
  description:
    'On a fatal error the NIC\'s interrupt handler tears down the rx tasklet with tasklet_kill() itself (B14, case a). ' +
    'tasklet_kill is for process context: the kernel logs "Attempt to kill tasklet from interrupt", and its waits (wait_var_event since 5.13) ' +
    'call might_sleep in hardirq context: "BUG: sleeping function called from invalid context".',
  cpus: 2,
  vars: { rx_packets: 0, dead: 0 },
  functions: { rx_action: [inc('rx_packets')] },
  tasklets: { rx_tasklet: { func: 'rx_action' } },
  tasks: [],
  irqs: [{ name: 'eth0', cpus: [1], handler: [tasklet_schedule('rx_tasklet'), assign('dead', 1), tasklet_kill('rx_tasklet')], budget: 1 }],
  expected: 'sleep-in-atomic',
  twin: 'tasklet_kill-from-task',
});

/** Fixed: the interrupt only flags the error; a task kills the tasklet. */
export const killFromTask = defineDesign({
  name: 'tasklet_kill-from-task',
  description:
    'The interrupt handler only records the error; the driver\'s reset task calls tasklet_kill() in process context on the other CPU (B14, case a, fixed). ' +
    'There it may sleep until the tasklet, queued or running on the interrupt\'s CPU, has run and is idle.',
  cpus: 2,
  vars: { rx_packets: 0, dead: 0 },
  functions: { rx_action: [inc('rx_packets')] },
  tasklets: { rx_tasklet: { func: 'rx_action' } },
  tasks: [{ name: 'reset', cpu: 0, body: [tasklet_kill('rx_tasklet')] }],
  irqs: [{ name: 'eth0', cpus: [1], handler: [tasklet_schedule('rx_tasklet'), assign('dead', 1)], budget: 1 }],
  expected: 'verified',
  twin: 'tasklet_kill-from-hardirq',
});

/** B14b: tasklet_kill while the tasklet is disabled and scheduled. */
export const killDisabledTasklet = defineDesign({
  name: 'tasklet_kill-while-disabled',
  description:
    'A suspend path disables the rx tasklet, and then kills it before enabling it again (B14, case b). ' +
    'If the interrupt scheduled the tasklet meanwhile, it stays queued (disabled tasklets are only requeued), SCHED never clears, ' +
    'and tasklet_kill sleeps forever: a hung task.',
  cpus: 1,
  vars: { rx_packets: 0 },
  functions: { rx_action: [inc('rx_packets')] },
  tasklets: { rx_tasklet: { func: 'rx_action' } },
  tasks: [{ name: 'suspend', cpu: 0, body: [tasklet_disable('rx_tasklet'), tasklet_kill('rx_tasklet'), tasklet_enable('rx_tasklet')] }],
  irqs: [{ name: 'eth0', handler: [tasklet_schedule('rx_tasklet')], budget: 1 }],
  expected: 'hung-task',
  twin: 'tasklet_kill-after-enable',
});

/** Fixed: enable first, then kill. */
export const killAfterEnable = defineDesign({
  ...killDisabledTasklet,
  name: 'tasklet_kill-after-enable',
  description:
    'The suspend path re-enables the tasklet before killing it (B14, case b, fixed). ' +
    'A tasklet scheduled while disabled then runs at the next pass, SCHED clears, and tasklet_kill returns.',
  tasks: [{ name: 'suspend', cpu: 0, body: [tasklet_disable('rx_tasklet'), tasklet_enable('rx_tasklet'), tasklet_kill('rx_tasklet')] }],
  expected: 'verified',
  twin: 'tasklet_kill-while-disabled',
});

const teardownBase = {
  cpus: 2,
  locks: { 'dev->lock': 'spinlock' as const },
  vars: { 'dev->up': 1, 'priv->rx_packets': 0 },
  functions: { rx_action: [inc('priv->rx_packets')] },
  tasklets: { 'priv->rx_tasklet': { func: 'rx_action' } },
  structs: { priv: { members: ['priv->rx_tasklet', 'priv->rx_packets'] } },
};

/** B14c: the interrupt source stays live across tasklet_kill; the tasklet is rescheduled and freed. */
export const killThenFreeLiveSource = defineDesign({
  name: 'tasklet_kill-with-live-irq-then-kfree',
  description:
    'A remove path kills the rx tasklet and frees the private struct holding it, while the device interrupt, on the other CPU, can still schedule it (B14, case c). ' +
    'tasklet_kill only guarantees the tasklet idle at its return: the interrupt schedules it again, and it is freed while scheduled (ODEBUG) ' +
    'or scheduled after the free (KASAN use-after-free).',
  ...teardownBase,
  tasks: [{ name: 'remove', cpu: 0, body: [tasklet_kill('priv->rx_tasklet'), kfree('priv')] }],
  irqs: [{ name: 'eth0', cpus: [1], handler: [tasklet_schedule('priv->rx_tasklet')], budget: 1 }],
  expected: 'use-after-free',
  twin: 'tasklet_kill-after-irq-disabled-then-kfree',
});

/** Fixed: turn the source off first (under the lock its handler takes), then kill, then free. */
export const killAfterSourceOff = defineDesign({
  name: 'tasklet_kill-after-irq-disabled-then-kfree',
  description:
    'The remove path first marks the device down under dev->lock, which the interrupt handler takes before scheduling the tasklet, then kills the tasklet and frees it (B14, case c, fixed). ' +
    'Once the flag is cleared no handler can schedule the tasklet again, so after tasklet_kill it is neither queued nor running when freed.',
  ...teardownBase,
  tasks: [{ name: 'remove', cpu: 0, body: [spin_lock_irq('dev->lock'), assign('dev->up', 0), spin_unlock_irq('dev->lock'), tasklet_kill('priv->rx_tasklet'), kfree('priv')] }],
  irqs: [{ name: 'eth0', cpus: [1], handler: [spin_lock('dev->lock'), if_(v('dev->up'), [tasklet_schedule('priv->rx_tasklet')]), spin_unlock('dev->lock')], budget: 1 }],
  expected: 'verified',
  twin: 'tasklet_kill-with-live-irq-then-kfree',
});
