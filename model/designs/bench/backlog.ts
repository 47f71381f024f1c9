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
 * Differences from the Promela model, read line by line against
 * backlog.pml (README "Performance" repeats them):
 *  - release_sock drains the backlog one packet at a time (dequeue under
 *    slock, spin_unlock with bh still off, deliver, spin_lock, re-test),
 *    where pan grabs the whole list at once, delivers the batch, then
 *    relocks and re-tests (kdefer has no list splice); the delivery order
 *    is the same. BUGGY: pan's drain does not relock and ends the round
 *    with local_bh_enable only; kdefer's relocks and ends with
 *    spin_unlock_bh, and its owned = 0 is followed by wake_up;
 *  - `owned` is 1, not the owner's CPU + 1 (a value naming a CPU would keep
 *    kdefer's CPU symmetry reduction off), so pan's `assert(owned == me+1)`
 *    at release_sock is not made; mutual exclusion of the owned section is
 *    still what the ordering check depends on;
 *  - a delivery is one step, like pan's DELIVER: rcv_nxt += 1 when the
 *    packet is rcv_nxt, else rcv_nxt is pushed past P and the `ordering`
 *    invariant rcv_nxt <= P fails right after the step (pan: assertion
 *    seq == rcv_nxt, which the bench maps to `ordering`);
 *  - the input queue is a queue of sequence numbers filled by the handler
 *    (__skb_queue_tail, narrived++, raise, return: four steps, pan's one
 *    d_step) and emptied by NET_RX (the loop test and the dequeue are two
 *    steps, pan's SQ_DEQ one, with irqs off around it in pan; here the
 *    dequeue is atomic and the irq that may come between only appends);
 *  - NET_RX's `if (owned)` test and its action (sk_add_backlog or the
 *    delivery) are two steps, pan's SQ_RCV one; the `while` loops start
 *    with a `loop counter = 0` bookkeeping step; contexts end with `return`;
 *  - lock_sock's sleep is wait_event on the socket's wait queue, woken by
 *    release_sock's wake_up (pan: the thread is blocked until owned == 0);
 *    neither loses a wake-up;
 *  - the loops (lock_sock's retry, release_sock's drain, NET_RX's) have no
 *    bound and no counter (`bound: 'none'`), as pan's do-loops: each ends
 *    by the other CPUs' progress (a finite number of rounds, packets);
 *  - ksoftirqd exists, as in softirq-bh.ts;
 *  - end states: the line has used its budget of P packets, as pan's CPU 0
 *    waits for narrived == P; pan's per-CPU `assert(!pending && bh == 0 &&
 *    ndeq == narrived)` is the lost-softirq check (a packet left in the
 *    input queue also fails `every packet delivered`), its final
 *    `slock == 0` the lock-leak check;
 *  - spin_lock_bh is two steps as in pan; spin_unlock_bh one (pan: unlock,
 *    then bh-- with the softirq run);
 *  - the user thread's loop is `repeat(K)`, unrolled (pan: a counter i).
 */
import {
  add, and, assign, defineDesign, dequeue, enqueue, eq, gt, if_, inc, le, ne, queue_len, r, raise_softirq_irqoff, repeat, spin_lock,
  spin_lock_bh, spin_unlock, spin_unlock_bh, v, wait_event, wake_up, while_, type Design, type Expr, type Stmt,
} from '../../dsl/design.ts';
import { benchName, type BenchParams } from './irq-lock.ts';

export interface BacklogParams extends BenchParams {
  /** Packets arriving on CPU 0 (pan's P; default K). */
  readonly packets?: number;
}

export function backlogDesign({ cpus, k, buggy, packets = k }: BacklogParams): Design {
  // DELIVER(x) of backlog.pml, `assert(x == rcv_nxt); rcv_nxt++`, as one
  // step: a packet out of sequence pushes rcv_nxt past P (rcv_nxt += 1 +
  // P·(x != rcv_nxt)), and the `ordering` invariant rcv_nxt <= P fails
  // right after that step.
  const deliver = (reg: string): Stmt[] => [
    assign('rcv_nxt', add(v('rcv_nxt'), Array.from({ length: packets }, () => ne(r(reg), v('rcv_nxt'))).reduce<Expr>((acc, e) => add(acc, e), 1))),
  ];
  const lockSock: Stmt[] = [
    spin_lock_bh('slock'),
    while_(ne(v('owned'), 0), [spin_unlock_bh('slock'), wait_event('sk_wq', eq(v('owned'), 0)), spin_lock_bh('slock')], { bound: 'none' }),
    assign('owned', 1),
    spin_unlock_bh('slock'),
  ];
  const drain: Stmt = while_(gt(queue_len('backlog'), 0), [dequeue('backlog', 'x'), spin_unlock('slock'), ...deliver('x'), spin_lock('slock')], { bound: 'none' });
  const releaseSock: Stmt[] = buggy
    ? [spin_lock_bh('slock'), assign('owned', 0), wake_up('sk_wq'), drain, spin_unlock_bh('slock')]
    : [spin_lock_bh('slock'), drain, assign('owned', 0), wake_up('sk_wq'), spin_unlock_bh('slock')];
  return defineDesign({
    name: benchName('backlog', { cpus, k, buggy }),
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
        ], { bound: 'none' }),
      ],
    },
    invariants: [
      { name: 'packets delivered exactly once, in sequence order (seq == rcv_nxt at every delivery)', holds: le(v('rcv_nxt'), packets), kind: 'ordering' },
      { name: 'every packet delivered', holds: eq(v('rcv_nxt'), packets), when: 'at-end' },
      { name: 'backlog empty and socket released', holds: and(eq(queue_len('backlog'), 0), eq(v('owned'), 0)), when: 'at-end' },
    ],
    expected: buggy ? 'ordering' : 'verified',
    twin: benchName('backlog', { cpus, k, buggy: !buggy }),
    // The scenario is parameterised by its packet count (pan's P): a packet more is another scenario, not a bug of the scheme.
    assumes: [{ bound: 'irq eth0', why: `the scenario has ${packets} packets: eth0 interrupts once per packet, and the input queue and the backlog hold ${packets}` }],
  });
}
