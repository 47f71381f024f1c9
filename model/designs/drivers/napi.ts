/**
 * B15 through NAPI (shared/kernel-semantics-drivers.md D3.5): napi_schedule
 * from a threaded interrupt handler. napi_schedule raises NET_RX with
 * __raise_softirq_irqoff, which wakes nobody: in a hardirq the irq_exit
 * runs it, with BH disabled the local_bh_enable does, but a threaded
 * handler is a task with BH on, so the bit waits for the next interrupt on
 * that CPU; if the CPU goes idle first, "NOHZ tick-stop error: local
 * softirq work is pending, handler #08!!!". Fixed in ath10k's SDIO path by
 * 019edd01d174 ("ath10k: sdio: Add missing BH locking around
 * napi_schdule()"), and the same way in r8152 and idpf: local_bh_disable()
 * and local_bh_enable() around napi_schedule, so NET_RX runs at the enable.
 */
import {
  add, and, defineDesign, dequeue, either, enqueue, eq, gt, if_, inc, load, local_bh_disable, local_bh_enable, lt, queue_len, r, v,
  while_, type Design, type Stmt,
} from '../../dsl/design.ts';
import { request_threaded_irq } from '../../dsl/irq.ts';
import { napi_complete_done, napi_enable, napi_schedule, netif_napi_add } from '../../dsl/napi.ts';

/** ath10k_sdio_napi_poll: take at most `budget` frames off the rx ring; complete if it did not use it all. */
const napiPoll: readonly Stmt[] = [
  load('work', 0),
  while_(and(lt(r('work'), r('budget')), gt(queue_len('ar->rx_ring'), 0)), [dequeue('ar->rx_ring', 'skb'), inc('ar->rx_delivered'), load('work', add(r('work'), 1))], { bound: 2 }),
  if_(lt(r('work'), r('budget')), [napi_complete_done('ar->napi', r('work'))]),
];

/** The SDIO interrupt thread: a frame came (or the interrupt was spurious); hand it to NAPI. */
const irqThread = (bh: boolean): readonly Stmt[] => [
  either(
    [inc('ar->rx_received'), enqueue('ar->rx_ring', v('ar->rx_received')), ...(bh ? [local_bh_disable()] : []), napi_schedule('ar->napi'), ...(bh ? [local_bh_enable()] : [])],
    [], // IRQ_NONE: nothing pending on the function
  ),
];

const design = (bh: boolean) => ({
  cpus: 1,
  vars: { 'ar->rx_received': 0, 'ar->rx_delivered': 0 },
  queues: { 'ar->rx_ring': { capacity: 1 } },
  napis: { 'ar->napi': { poll: 'ath10k_sdio_napi_poll', weight: 2 } },
  functions: { ath10k_sdio_napi_poll: napiPoll },
  irqs: [{ name: 'sdio', start: 'request_irq' as const, flags: ['ONESHOT' as const], thread: irqThread(bh) }],
  // probe: NAPI first, then the interrupt (a handler may run before request_irq returns).
  tasks: [{ name: 'ath10k_sdio_probe', cpu: 0, body: [netif_napi_add('ar->napi'), napi_enable('ar->napi'), request_threaded_irq('sdio')] }],
  invariants: [{ name: 'every frame received is delivered', holds: eq(v('ar->rx_delivered'), v('ar->rx_received')), when: 'at-end' as const }],
});

/** B15: napi_schedule from the irq thread with BH on: NET_RX waits, the CPU idles. */
export const napiScheduleFromIrqThread: Design = defineDesign({
  name: 'napi_schedule-from-irq-thread',
  description:
    "ath10k SDIO before 019edd01d174 (B15 through NAPI): the SDIO interrupt is threaded, and its thread calls napi_schedule for a received frame. " +
    'napi_schedule raises NET_RX with __raise_softirq_irqoff, which wakes nobody, and the thread runs with BH on: no irq_exit or local_bh_enable follows, ' +
    'and the CPU goes idle with NET_RX pending: "NOHZ tick-stop error: local softirq work is pending, handler #08!!!", the frame undelivered.',
  ...design(false),
  expected: 'lost-softirq',
  twin: 'napi_schedule-from-irq-thread-bh-disabled',
});

/** Fixed: local_bh_disable/enable around napi_schedule: NET_RX runs at the enable. */
export const napiScheduleFromIrqThreadBhDisabled: Design = defineDesign({
  ...napiScheduleFromIrqThread,
  name: 'napi_schedule-from-irq-thread-bh-disabled',
  description:
    'The same SDIO thread after 019edd01d174 (B15 fixed): napi_schedule inside local_bh_disable/local_bh_enable. The raise with BH off needs no wakeup: ' +
    'the outermost local_bh_enable is a softirq run point, so NET_RX runs there, in the thread\'s context, polls the NAPI and delivers the frame.',
  ...design(true),
  expected: 'verified',
  twin: 'napi_schedule-from-irq-thread',
});
