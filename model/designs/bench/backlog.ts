/**
 * backlog: the SPIN reference scenario of ../shared/bench/spin/backlog.pml
 * as a kdefer design: the 1999 socket-backlog scheme (lock_sock /
 * release_sock over slock, owned and the backlog; bh_lock_sock in NET_RX).
 * P packets arrive in order by hardirq on CPU 0 (netif_rx queues them and
 * raises NET_RX); NET_RX, per packet, delivers it if the socket is not
 * owned, else adds it to the backlog. Every CPU runs one user thread doing
 * K rounds of lock_sock; release_sock on the same socket; release_sock
 * drains the backlog in process context, bh still off. Every delivery must
 * be the next sequence number (exactly once, in order).
 *
 * BUGGY: release_sock clears `owned` (and wakes) before draining, so NET_RX
 * delivers a newer packet directly while older ones are still backlogged.
 *
 * Differences from the Promela model (README "Performance" lists them all):
 *  - release_sock drains the backlog one packet at a time (dequeue under
 *    slock, deliver with slock dropped and bh off, relock), where pan grabs
 *    the whole list at once (kdefer has no list splice); the delivery order
 *    is the same;
 *  - `owned` is 1, not the owner's CPU + 1, so pan's `owned == me+1` check
 *    at release_sock is not made;
 *  - a delivery is two steps (BUG_ON(seq != rcv_nxt), rcv_nxt++), pan's one;
 *  - the input queue is a queue whose dequeue is atomic, where pan disables
 *    irqs around it;
 *  - lock_sock's sleep is wait_event on the socket's wait queue, woken by
 *    release_sock's wake_up (pan: blocked until owned == 0);
 *  - ksoftirqd exists, as in softirq_bh.ts.
 */
import {
  and, BUG_ON, defineDesign, dequeue, enqueue, eq, gt, if_, inc, ne, queue_len, r, raise_softirq_irqoff, repeat, spin_lock,
  spin_lock_bh, spin_unlock, spin_unlock_bh, v, wait_event, wake_up, while_, assign, type Design, type Stmt,
} from '../../dsl/design.ts';
import type { BenchParams } from './irq-lock.ts';

export interface BacklogParams extends BenchParams {
  /** Packets arriving on CPU 0 (pan's P; default K). */
  readonly packets?: number;
}

export function backlogDesign({ cpus, k, buggy, packets = k }: BacklogParams): Design {
  const deliver = (reg: string): Stmt[] => [BUG_ON(ne(r(reg), v('rcv_nxt')), 'packet out of order'), inc('rcv_nxt')];
  const lockSock: Stmt[] = [
    spin_lock_bh('slock'),
    while_(ne(v('owned'), 0), [spin_unlock_bh('slock'), wait_event('sk_wq', eq(v('owned'), 0)), spin_lock_bh('slock')], { bound: cpus * k }),
    assign('owned', 1),
    spin_unlock_bh('slock'),
  ];
  const drain: Stmt = while_(gt(queue_len('backlog'), 0), [dequeue('backlog', 'x'), spin_unlock('slock'), ...deliver('x'), spin_lock('slock')], { bound: packets });
  const releaseSock: Stmt[] = buggy
    ? [spin_lock_bh('slock'), assign('owned', 0), wake_up('sk_wq'), drain, spin_unlock_bh('slock')]
    : [spin_lock_bh('slock'), drain, assign('owned', 0), wake_up('sk_wq'), spin_unlock_bh('slock')];
  return defineDesign({
    name: `bench-backlog-${buggy ? 'buggy' : 'fixed'}-n${cpus}-k${k}`,
    description:
      `SPIN reference scenario backlog (${cpus} CPUs, K=${k}, ${packets} packets): Miller's 1999 socket backlog; every CPU's user thread does ${k} rounds of lock_sock/release_sock on one socket while packets arrive on CPU 0. ` +
      (buggy ? 'release_sock clears owned before draining the backlog: a newer packet is delivered before an older backlogged one.' : 'release_sock drains the backlog before it clears owned.'),
    cpus,
    locks: { slock: 'spinlock' },
    waitqueues: { sk_wq: {} },
    vars: { owned: 0, rcv_nxt: 0, narrived: 0 },
    queues: { input: { capacity: packets }, backlog: { capacity: packets } },
    tasks: Array.from({ length: cpus }, (_, c) => ({ name: `user${c}`, cpu: c, body: [repeat(k, [...lockSock, ...releaseSock])] })),
    irqs: [{ name: 'eth0', cpus: [0], budget: packets, handler: [enqueue('input', v('narrived')), inc('narrived'), raise_softirq_irqoff('NET_RX')] }],
    softirqs: {
      NET_RX: [
        while_(gt(queue_len('input'), 0), [
          dequeue('input', 'seq'),
          spin_lock('slock'),
          if_(ne(v('owned'), 0), [enqueue('backlog', r('seq'))], deliver('seq')),
          spin_unlock('slock'),
        ], { bound: packets }),
      ],
    },
    invariants: [
      { name: 'every packet delivered', holds: eq(v('rcv_nxt'), packets), when: 'at-end' },
      { name: 'backlog empty and socket released', holds: and(eq(queue_len('backlog'), 0), eq(v('owned'), 0)), when: 'at-end' },
    ],
    expected: buggy ? 'assertion' : 'verified',
  });
}
