/**
 * 2.2/2.4 bottom halves are globally serialised (shared/kernel-semantics.md
 * §3.3; Wilcox, "I'll Do It Later", §3.1): the network's receive processing
 * as NET_BH and as the NET_RX softirq that replaced it (softnet).
 */
import { BUG_ON, dec, defineDesign, inc, raise_softirq, v, type Stmt } from '../../dsl/design.ts';
import { mark_bh } from '../../dsl/bh.ts';

/** IP input with the protocol state unguarded: `ip_rcv_busy` sees two CPUs inside it at once. */
const ipInput: readonly Stmt[] = [BUG_ON(v('ip_rcv_busy'), 'two CPUs in ip_rcv at once'), inc('ip_rcv_busy'), inc('ip_in_receives'), dec('ip_rcv_busy')];

/** The receive path as the NET_RX softirq on a modern kernel: it runs on every CPU at once. */
export const netRxSoftirqUnguarded = defineDesign({
  name: 'net_rx-softirq-unguarded',
  description:
    'The receive path of a 2.2-era network stack, written for the single-threaded NET_BH, moved unchanged into the NET_RX softirq of a modern kernel (Wilcox). ' +
    'NET_RX runs on every CPU that takes a network interrupt, at the same time, so the unguarded protocol state is updated by two CPUs at once: ' +
    'the softnet work had to add the locking (contrast T1 for tasklets).',
  cpus: 2,
  vars: { ip_rcv_busy: 0, ip_in_receives: 0 },
  softirqs: { NET_RX: ipInput },
  tasks: [],
  irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')], budget: 2 }],
  expected: 'assertion',
  twin: 'net_bh-unguarded-linux-2_4',
});

/** The same code as NET_BH under 2.4: at most one bottom half runs in the whole system. */
export const netBhUnguarded = defineDesign({
  name: 'net_bh-unguarded-linux-2_4',
  description:
    'The same receive path as the NET_BH bottom half, marked from the interrupt on whichever CPU takes it, on a 2.4 kernel (Wilcox). ' +
    'A bottom half is a HI tasklet that also takes global_bh_lock, so at most one bottom half runs anywhere at a time (and, as any tasklet, never twice at once, T1): ' +
    'the unguarded state is safe, and the stack is single-threaded however many CPUs take interrupts.',
  cpus: 2,
  profile: '2.4',
  vars: { ip_rcv_busy: 0, ip_in_receives: 0 },
  functions: { net_bh: ipInput },
  bhs: { NET_BH: 'net_bh' },
  tasks: [],
  irqs: [{ name: 'eth0', handler: [mark_bh('NET_BH')], budget: 2 }],
  expected: 'verified',
  twin: 'net_rx-softirq-unguarded',
});
