/**
 * One TCP socket's receive side, written once and shared by every design of
 * this folder (shared/kernel-semantics.md §7): the eth0 interrupt and the
 * NET_RX softirq that carry segments to tcp_v4_rcv, struct sock's lock
 * (the kernel model's lock_sock / release_sock / bh_lock_sock /
 * sock_owned_by_user / sk_add_backlog builders, model/kernel/sock.ts, with
 * tcp_v4_do_rcv as sk_backlog_rcv), the TCP state change of one segment
 * (tcp_rcv_established), the copy to user, and the socket's invariants
 * N1–N5.
 *
 * The kernel model has no TCP: all of it but the socket lock is design
 * code, as a kernel developer would write it down. What is abstract: a segment is its
 * sequence number (1, 2, 3… in the order eth0 receives them); the checksum
 * and the copy to user are one read of the payload each, counted in
 * `payload_reads`; there is no retransmission, no ACK, no out-of-order
 * queue, no timers and no release_cb (N6): a segment is processed once,
 * dropped once (TCPBacklogDrop) or never. eth0 is affine to cpu0, which
 * stands for NAPI: one CPU at a time polls a receive queue, so segments
 * reach tcp_v4_rcv in sequence order.
 */
import {
  add, and, assign, call, dec, dequeue, enqueue, eq, ge, gt, if_, inc, le, lt, ne, queue_len, r, repeat, spin_lock,
  spin_lock_bh, spin_unlock, spin_unlock_bh, v, wait_event, wake_up, while_, __raise_softirq_irqoff, type Assumption, type Cond, type Design, type Expr,
  type Invariant, type IrqSpec, type Stmt,
} from '../../dsl/design.ts';
import {
  bh_lock_sock, bh_unlock_sock, lock_sock, release_sock, sk_add_backlog, sock_owned_by_user, sock_release_ownership,
} from '../../dsl/sock.ts';

// ------------------------------------------------------------------ names

/** spinlock_t sk->sk_lock.slock: bh_lock_sock in softirq, spin_lock_bh in process context. */
export const SLOCK = 'sk->sk_lock.slock';
/** sk_lock.owned of the hand-written socket lock (the B2 design only; the builders keep the owner themselves). */
export const OWNED = 'sk->sk_lock.owned';
/** lock_sock sleeps here while another task owns the socket (__lock_sock). */
export const LOCK_WQ = 'sk->sk_lock.wq';
/** sk_sleep(sk): a reader waits here for data (sk_wait_data), sk_data_ready wakes it. */
export const SK_WQ = 'sk->sk_wq';
/** The backlog: segments that came while the socket was owned (sk_add_backlog). */
export const BACKLOG = 'sk->sk_backlog';
/** Processed segments waiting to be copied to user (tcp_queue_rcv). */
export const RECEIVE_QUEUE = 'sk->sk_receive_queue';
/** The eth0 receive ring: segments the NIC has DMAed and NET_RX has not yet polled. */
export const RX_RING = 'eth0 rx ring';
/** tp->ucopy.task: the socket's reader, blocked in read with its user buffer installed. */
export const UCOPY_TASK = 'tp->ucopy.task';
/** tp->ucopy.prequeue: unprocessed segments handed to the blocked reader. */
export const PREQUEUE = 'tp->ucopy.prequeue';
/** LINUX_MIB_TCPBACKLOGDROP: segments dropped because the backlog was full. */
export const DROPS = 'TCPBacklogDrop';
/** Segments eth0 has received: the last sequence number. */
export const SENT = 'eth0 rx_packets';
/** Segments copied to the reader's buffer. */
export const COPIED = 'copied';
/** Passes over segment payloads: checksum passes and copies to user. */
export const PAYLOAD_READS = 'payload_reads';
/** Segments that arrived while the reader was blocked in read (tp->ucopy.task set). */
export const BLOCKED_ARRIVALS = 'arrived while reader blocked';
/** Segments the reader processed itself with checksum and copy in one pass. */
export const ONE_PASS = 'processed by the reader in one pass';
/** N1 witness: contexts inside tcp_rcv_established right now. */
export const IN_TCP = 'contexts in tcp_rcv_established';
/** The next sequence number TCP expects: one past the last segment processed. */
export const RCV_NXT = 'tp->rcv_nxt';
/** 1 while no segment has reached tcp_rcv_established after a later-numbered one. */
export const IN_ORDER = 'sk_receive_queue in order';
/** How many times tcp_rcv_established processed segment `seq`. */
export const processedVar = (seq: number): string => `segment ${seq} processed`;

/** The most segments a design may carry (its variables and branches are per segment). */
export const MAX_PACKETS = 3;

// ------------------------------------------------------------------ bounds

/** The bounds every design of this folder is checked within. */
export interface TcpBounds {
  /** Segments eth0 receives: its interrupt budget (1 to MAX_PACKETS). */
  readonly packets: number;
  /** Backlog capacity (sk_rcvbuf + sk_sndbuf in segments); a full backlog drops. */
  readonly backlog: number;
}

/**
 * What every design of this folder assumes about eth0's budget: it is the
 * number of segments the stream has. The reader reads until that many are
 * copied or dropped (a stand-in for EOF), and the rx ring, the per-segment
 * counters and the loop bounds are sized for them: one more interrupt is a
 * segment the design has no room or reader for, not a bug of the protocol.
 * More segments is a design of its own (`packets`), as the 3-segment ones.
 */
export const segmentsAssumption = (b: TcpBounds): Assumption => ({
  bound: 'irq eth0',
  why: `the stream has ${b.packets} segment${b.packets === 1 ? '' : 's'}: eth0 interrupts once per segment, and the reader, the rx ring and the loop bounds are sized for ${b.packets}`,
});

/** Everything the reader must account for before read() returns: each segment copied or dropped. */
export const allAccounted = (b: TcpBounds): Expr => eq(add(v(COPIED), v(DROPS)), b.packets);

/** Loop bound for draining one queue: it never holds more than every segment. */
const drainBound = (b: TcpBounds): number => b.packets;
/** How often a task may find the socket owned and sleep again in lock_sock. */
const lockSockBound = (b: TcpBounds): number => b.packets + 2;

// ------------------------------------------------------------------ the receive path

/**
 * The eth0 interrupt: one segment per arrival, numbered in arrival order,
 * DMAed to the rx ring; ____napi_schedule raises NET_RX on this CPU.
 */
export const eth0 = (b: TcpBounds): IrqSpec => ({
  name: 'eth0',
  cpus: [0],
  budget: b.packets,
  handler: [inc(SENT), enqueue(RX_RING, v(SENT)), __raise_softirq_irqoff('NET_RX')],
});

/**
 * net_rx_action: poll the ring within its budget (one poll per segment the
 * design carries), pushing each segment up through ip_rcv and
 * ip_local_deliver to tcp_v4_rcv (the design's own `tcp_v4_rcv` function).
 * A `repeat` of polls rather than a while loop: no loop counter to reset,
 * fewer steps to interleave.
 */
export const netRxAction = (b: TcpBounds): readonly Stmt[] => [
  repeat(b.packets, [if_(gt(queue_len(RX_RING), 0), [dequeue(RX_RING, 'skb'), call('tcp_v4_rcv')])]),
];

/**
 * tcp_rcv_established for segment `skb`: the change of the socket's TCP
 * state, rcv_nxt moving past it, bracketed by the N1 witness. Two ghost
 * updates record what N3 and N4 are about: the segment must not be behind
 * rcv_nxt (a gap, after a drop, is allowed: retransmission is not
 * modelled), and each segment is counted per number.
 */
export const tcpRcvEstablished = (b: TcpBounds): readonly Stmt[] => [
  inc(IN_TCP),
  assign(IN_ORDER, and(v(IN_ORDER), ge(r('skb'), v(RCV_NXT)))),
  assign(RCV_NXT, add(r('skb'), 1)),
  countSegment(b, 1),
  dec(IN_TCP),
];

/** `segment k processed`++ for k = skb, as a chain of branches on the sequence number. */
function countSegment(b: TcpBounds, seq: number): Stmt {
  if (seq === b.packets) return inc(processedVar(seq));
  return if_(eq(r('skb'), seq), [inc(processedVar(seq))], [countSegment(b, seq + 1)]);
}

/**
 * tcp_v4_do_rcv in the two-pass world: tcp_rcv_established verifies the
 * checksum (a first read of the payload), queues the segment on the receive
 * queue and sk_data_ready wakes the reader, who copies it later (a second read).
 */
export const tcpV4DoRcv: readonly Stmt[] = [
  call('tcp_rcv_established'),
  inc(PAYLOAD_READS),
  enqueue(RECEIVE_QUEUE, r('skb')),
  wake_up(SK_WQ),
];

/**
 * The blocked reader's one pass: tcp_rcv_established in the reader's own
 * context, checksum and copy to user in one read of the payload.
 */
export const tcpRcvOnePass: readonly Stmt[] = [
  call('tcp_rcv_established'),
  inc(PAYLOAD_READS),
  inc(COPIED),
  inc(ONE_PASS),
];

/** skb_copy_datagram_msg for every segment on the receive queue: the second read. */
export const copyReceiveQueue = (b: TcpBounds): readonly Stmt[] => [
  while_(gt(queue_len(RECEIVE_QUEUE), 0), [dequeue(RECEIVE_QUEUE, 'skb'), inc(PAYLOAD_READS), inc(COPIED)], { bound: drainBound(b) }),
];

/** tcp_prequeue_process: the reader runs the prequeued segments through TCP in one pass each. */
export const tcpPrequeueProcess = (b: TcpBounds): readonly Stmt[] => [
  while_(gt(queue_len(PREQUEUE), 0), [dequeue(PREQUEUE, 'skb'), call('tcp_rcv_one_pass')], { bound: drainBound(b) }),
];

// ------------------------------------------------------------------ the socket lock

/**
 * How a design takes the socket lock. `builders`: the kernel's own
 * lock_sock / release_sock / bh_lock_sock / sock_owned_by_user /
 * sk_add_backlog (model/kernel/sock.ts: the owner, slock, the wait on
 * sk_lock.wq and the backlog drained through sk_backlog_rcv =
 * tcp_v4_do_rcv in the owner's context), as every design of this folder
 * but one takes it. `hand-written`: the socket lock written out from slock,
 * an `owned` variable, a wait queue and a backlog queue, as a kernel
 * developer reading lock_sock_nested would, for B2 only: lock_sock taking
 * slock with plain spin_lock. The builder's slock is always taken with
 * spin_lock_bh and its owner flag is the mechanism's own, so that bug
 * cannot be written around it.
 */
export type SockLock = 'builders' | 'hand-written';

/** The socket (design field `socks`); it embeds SLOCK, LOCK_WQ and BACKLOG under these names. */
export const SK = 'sk';

/** bh_lock_sock(sk): spin_lock(&sk->sk_lock.slock), BH already off in NET_RX. */
export const bhLockSock = (lock: SockLock): Stmt => (lock === 'builders' ? bh_lock_sock(SK) : spin_lock(SLOCK));
export const bhUnlockSock = (lock: SockLock): Stmt => (lock === 'builders' ? bh_unlock_sock(SK) : spin_unlock(SLOCK));

/** sock_owned_by_user(sk), read under slock: a branch condition. */
export const ownedByUser = (lock: SockLock): Cond => (lock === 'builders' ? sock_owned_by_user(SK) : ne(v(OWNED), 0));

/**
 * sk_add_backlog (under slock), dropping and counting TCPBacklogDrop when
 * it refuses: with the builders, the kernel's sk_add_backlog(sk, skb,
 * limit), -ENOBUFS once sk_backlog.len > limit; limit = backlog − 1, so at
 * most `backlog` segments are queued. sk_backlog.len counts the segments
 * release_sock has detached until its whole drain ends, as in the kernel
 * (a segment can be refused while the queue itself has room).
 */
export const skAddBacklog = (b: TcpBounds, lock: SockLock = 'builders'): readonly Stmt[] => (lock === 'builders'
  ? [if_(sk_add_backlog(SK, r('skb'), b.backlog - 1), [inc(DROPS)])]
  : [if_(lt(queue_len(BACKLOG), b.backlog), [enqueue(BACKLOG, r('skb'))], [inc(DROPS)])]);

/**
 * lock_sock (net/core/sock.c lock_sock_nested / __lock_sock). With the
 * builders, one statement. Hand-written: take slock (with `take`:
 * spin_lock_bh as the kernel does, or the buggy spin_lock of B2); while
 * another task owns the socket, drop slock and sleep on sk_lock.wq until it
 * is released; then own it. The final unlock is a softirq run point: NET_RX
 * may run there and see the socket owned.
 */
export const lockSock = (b: TcpBounds, lock: SockLock = 'builders', take: 'spin_lock_bh' | 'spin_lock' = 'spin_lock_bh'): readonly Stmt[] => {
  if (lock === 'builders') return [lock_sock(SK)];
  const [l, u] = take === 'spin_lock_bh' ? [spin_lock_bh(SLOCK), spin_unlock_bh(SLOCK)] : [spin_lock(SLOCK), spin_unlock(SLOCK)];
  return [
    l,
    while_(ne(v(OWNED), 0), [u, wait_event(LOCK_WQ, eq(v(OWNED), 0)), l], { bound: lockSockBound(b) }),
    assign(OWNED, 1),
    u,
  ];
};

/**
 * release_sock: with the builders, one statement (the backlog drained by
 * tcp_v4_do_rcv in the owner's context, BH on ≥4.9 or off <4.9 as the
 * profile says, then ownership released and sk_lock.wq woken).
 * Hand-written: under slock, drain the backlog in FIFO order, dropping
 * slock with BH on around each segment (these designs are modern, ≥4.9),
 * then clear ownership and wake the next owner. The kernel detaches the
 * whole list each round; one segment at a time from the same FIFO gives
 * the same order.
 */
export const releaseSock = (b: TcpBounds, lock: SockLock = 'builders'): readonly Stmt[] => (lock === 'builders'
  ? [release_sock(SK)]
  : [
      spin_lock_bh(SLOCK),
      while_(gt(queue_len(BACKLOG), 0), [dequeue(BACKLOG, 'skb'), spin_unlock_bh(SLOCK), call('tcp_v4_do_rcv'), spin_lock_bh(SLOCK)], { bound: drainBound(b) }),
      assign(OWNED, 0),
      wake_up(LOCK_WQ),
      spin_unlock_bh(SLOCK),
    ]);

/**
 * The buggy release_sock: ownership ends first (sock_release_ownership and
 * the wake-up, in a slock section of its own), and the backlog is drained
 * afterwards, under slock throughout. The builders' __release_sock is the
 * owner's (a drain by a task that no longer owns the socket is reported as
 * bad unlock balance), so this drain, after ownership, is written by hand
 * off the socket's own sk_backlog; it leaves sk_backlog.len as it was (only
 * the kernel's drain resets it), so a later segment may be refused sooner.
 * Between the two sections NET_RX finds the socket free and processes a new
 * segment at once, ahead of the backlog (N2, N4).
 */
export const releaseSockClearingOwnedFirst = (b: TcpBounds): readonly Stmt[] => [
  spin_lock_bh(SLOCK),
  sock_release_ownership(SK),
  wake_up(LOCK_WQ),
  spin_unlock_bh(SLOCK),
  spin_lock_bh(SLOCK),
  while_(gt(queue_len(BACKLOG), 0), [dequeue(BACKLOG, 'skb'), call('tcp_v4_do_rcv')], { bound: drainBound(b) }),
  spin_unlock_bh(SLOCK),
];

// ------------------------------------------------------------------ the socket's state

/** A design's socket and NIC objects. */
export interface SocketState {
  readonly socks?: NonNullable<Design['socks']>;
  readonly locks: NonNullable<Design['locks']>;
  readonly waitqueues: NonNullable<Design['waitqueues']>;
  readonly vars: NonNullable<Design['vars']>;
  readonly queues: NonNullable<Design['queues']>;
}

/**
 * The socket and the NIC: with the builders, the socket `sk` (socks:
 * sk_lock.slock, sk_lock.wq and sk_backlog embedded, sk_backlog_rcv =
 * tcp_v4_do_rcv reading register skb); hand-written, slock, `owned`,
 * sk_lock.wq and the backlog as plain objects.
 */
export function socketState(b: TcpBounds, lock: SockLock = 'builders'): SocketState {
  if (!Number.isInteger(b.packets) || b.packets < 1 || b.packets > MAX_PACKETS) {
    throw new Error(`tcp designs carry 1 to ${MAX_PACKETS} segments, not ${b.packets}`);
  }
  const perSegment = Object.fromEntries([...Array(b.packets).keys()].map((i) => [processedVar(i + 1), 0]));
  const vars = {
    [SENT]: 0, [DROPS]: 0, [COPIED]: 0, [PAYLOAD_READS]: 0,
    [IN_TCP]: 0, [RCV_NXT]: 1, [IN_ORDER]: 1, ...perSegment,
  };
  const queues = {
    [RX_RING]: { capacity: b.packets },
    [RECEIVE_QUEUE]: { capacity: b.packets },
  };
  if (lock === 'builders') {
    return {
      socks: { [SK]: { backlog: b.backlog, backlog_rcv: 'tcp_v4_do_rcv' } },
      locks: {},
      waitqueues: { [SK_WQ]: {} },
      vars,
      queues,
    };
  }
  return {
    locks: { [SLOCK]: 'spinlock' as const },
    waitqueues: { [LOCK_WQ]: {}, [SK_WQ]: {} },
    vars: { ...vars, [OWNED]: 0 },
    queues: { ...queues, [BACKLOG]: { capacity: b.backlog } },
  };
}

const sumOf = (names: readonly string[]): Expr => names.slice(1).reduce<Expr>((acc, n) => add(acc, v(n)), v(names[0]!));
const allOf = (xs: readonly Expr[]): Expr => xs.slice(1).reduce<Expr>((acc, x) => and(acc, x), xs[0]!);

/** Invariant names, for tests and the README. */
export const INVARIANT = {
  once: 'N3: no segment processed twice',
  order: 'N4/N5: sk_receive_queue in sequence order',
  mutex: 'N1: TCP state changed by one context at a time',
  exactlyOnce: 'N3: every segment processed exactly once or counted in TCPBacklogDrop',
  stranded: 'N2: nothing left in the backlog (or prequeue) after release_sock',
  twoReads: 'every payload read twice: checksum in TCP input, copy in read()',
  ownContext: "Miller: a blocked reader's segments are processed in its own context",
  onePass: 'Miller: one payload read per segment for a blocked reader, two otherwise',
} as const;

/**
 * The socket's invariants. `oneCopy`: the design has a blocked-reader path
 * (prequeue), whose segments are read once; otherwise every segment is read twice.
 */
export function socketInvariants(b: TcpBounds, oneCopy: boolean): Invariant[] {
  const segments = [...Array(b.packets).keys()].map((i) => processedVar(i + 1));
  const queuesEmpty = oneCopy ? and(eq(queue_len(BACKLOG), 0), eq(queue_len(PREQUEUE), 0)) : eq(queue_len(BACKLOG), 0);
  return [
    { name: INVARIANT.order, holds: eq(v(IN_ORDER), 1), kind: 'ordering' },
    { name: INVARIANT.once, holds: allOf(segments.map((s) => le(v(s), 1))) },
    { name: INVARIANT.mutex, holds: le(v(IN_TCP), 1), kind: 'data-race' },
    { name: INVARIANT.stranded, holds: queuesEmpty, when: 'at-end', kind: 'ordering' },
    { name: INVARIANT.exactlyOnce, holds: eq(add(sumOf(segments), v(DROPS)), v(SENT)), when: 'at-end' },
    ...(oneCopy
      ? [
          { name: INVARIANT.ownContext, holds: eq(v(ONE_PASS), v(BLOCKED_ARRIVALS)), when: 'at-end' as const },
          { name: INVARIANT.onePass, holds: eq(add(v(PAYLOAD_READS), v(BLOCKED_ARRIVALS)), add(v(COPIED), v(COPIED))), when: 'at-end' as const },
        ]
      : [{ name: INVARIANT.twoReads, holds: eq(v(PAYLOAD_READS), add(v(COPIED), v(COPIED))), when: 'at-end' as const }]),
  ];
}

/** The extra state of a design with a blocked-reader path (Miller's, and 4.x's prequeue). */
export function ucopyState(b: TcpBounds) {
  return {
    vars: { [UCOPY_TASK]: 0, [BLOCKED_ARRIVALS]: 0, [ONE_PASS]: 0 },
    queues: { [PREQUEUE]: { capacity: b.packets } },
  };
}
