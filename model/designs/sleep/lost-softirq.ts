/**
 * B15: a softirq raised from a task with bottom halves enabled, by
 * __raise_softirq_irqoff, which never wakes ksoftirqd (kernel/softirq.c).
 */
import {
  __raise_softirq_irqoff, defineDesign, enqueue, dequeue, local_bh_disable, local_bh_enable, local_irq_restore,
  local_irq_save, inc,
} from '../../dsl/design.ts';

const netRx = [dequeue('backlog', 'skb'), inc('delivered')];

/** B15: napi_schedule() from process context, bh on. */
export const napiScheduleFromTask = defineDesign({
  name: 'napi_schedule-from-task',
  description:
    'A task queues a packet and calls napi_schedule(), which does __raise_softirq_irqoff(NET_RX) inside local_irq_save (B15). ' +
    'With bottom halves enabled nothing wakes ksoftirqd and no irq_exit or local_bh_enable follows, ' +
    'so the CPU goes idle with NET_RX pending: "NOHZ tick-stop error: local softirq work is pending".',
  cpus: 1,
  vars: { delivered: 0 },
  queues: { backlog: { capacity: 2 } },
  softirqs: { NET_RX: netRx },
  tasks: [{ name: 'tun_write', cpu: 0, replicable: true, body: [enqueue('backlog', 1), local_irq_save('flags'), __raise_softirq_irqoff('NET_RX'), local_irq_restore('flags')] }],
  expected: 'lost-softirq',
  twin: 'napi_schedule-under-bh-disable',
});

/** Fixed: the raise inside local_bh_disable/enable; the enable runs NET_RX. */
export const napiScheduleUnderBhDisable = defineDesign({
  name: 'napi_schedule-under-bh-disable',
  description:
    'The same raise wrapped in local_bh_disable()/local_bh_enable() (B15 fixed), as netif_rx() does since 5.18. ' +
    'The outermost local_bh_enable is a softirq run point, so NET_RX runs at once in the caller\'s context.',
  cpus: 1,
  vars: { delivered: 0 },
  queues: { backlog: { capacity: 2 } },
  softirqs: { NET_RX: netRx },
  tasks: [{ name: 'tun_write', cpu: 0, replicable: true, body: [enqueue('backlog', 1), local_bh_disable(), local_irq_save('flags'), __raise_softirq_irqoff('NET_RX'), local_irq_restore('flags'), local_bh_enable()] }],
  expected: 'verified',
  twin: 'napi_schedule-from-task',
});

