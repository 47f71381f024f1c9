/**
 * The modern kernel's receive path (4.14 and later, shared/kernel-semantics.md
 * §7.1): no prequeue and no input threads. NET_RX runs TCP itself when the
 * socket is not owned, and appends to the backlog when it is; the owner's
 * release_sock drains the backlog in process context, with BH on (≥4.9).
 * Miller's idea survives only in that last step: segments that arrive while
 * the reader owns the socket are processed in the reader's context.
 */
import {
  call, defineDesign, gt, if_, not, or, queue_len, wait_event, while_, type Design, type Stmt,
} from '../../dsl/design.ts';
import { bh_lock_sock, bh_unlock_sock, lock_sock, release_sock, sock_owned_by_user } from '../../dsl/sock.ts';
import {
  allAccounted, copyReceiveQueue, eth0, netRxAction, RECEIVE_QUEUE, releaseSockClearingOwnedFirst,
  SK, SK_WQ, skAddBacklog, socketInvariants, segmentsAssumption, socketState, tcpRcvEstablished, tcpV4DoRcv, type TcpBounds,
} from './socket.ts';

/** How a modern design is put together. */
export interface ModernOptions extends TcpBounds {
  readonly name: string;
  readonly description: string;
  /**
   * The bug: release_sock clears ownership before it drains the backlog.
   * The release_sock builder cannot do that (its __release_sock is the
   * owner's), so the buggy release_sock is written from
   * sock_release_ownership and a drain by hand (socket.ts).
   */
  readonly releaseSock?: 'drain-then-release' | 'release-then-drain';
  readonly expected: Design['expected'];
  readonly twin: string;
}

/** tcp_v4_rcv after the socket lookup: process now if nobody owns the socket, else backlog it. */
const tcpV4Rcv = (b: TcpBounds): readonly Stmt[] => [
  bh_lock_sock(SK),
  if_(sock_owned_by_user(SK), [...skAddBacklog(b)], [call('tcp_v4_do_rcv')]),
  bh_unlock_sock(SK),
];

/**
 * tcp_recvmsg until every segment is copied (or dropped): copy the receive
 * queue, and when it is empty sleep in sk_wait_data, which releases the
 * socket (draining the backlog) around the sleep.
 */
const tcpRecvmsg = (b: TcpBounds): readonly Stmt[] => [
  lock_sock(SK),
  while_(not(allAccounted(b)), [
    ...copyReceiveQueue(b),
    if_(not(allAccounted(b)), [
      call('release_sock'),
      wait_event(SK_WQ, or(gt(queue_len(RECEIVE_QUEUE), 0), allAccounted(b))),
      lock_sock(SK),
    ]),
  ], { bound: b.packets + 1 }),
  call('release_sock'),
];

/** A modern design from its options: eth0 and NET_RX on cpu0, the reader on cpu1. */
export function modernDesign(o: ModernOptions): Design {
  const b: TcpBounds = { packets: o.packets, backlog: o.backlog };
  const socket = socketState(b);
  return defineDesign({
    name: o.name,
    description: o.description,
    cpus: 2,
    ...socket,
    functions: {
      tcp_v4_rcv: tcpV4Rcv(b),
      tcp_rcv_established: tcpRcvEstablished(b),
      tcp_v4_do_rcv: tcpV4DoRcv,
      // release_sock(sk), or the buggy one written out.
      release_sock: o.releaseSock === 'release-then-drain' ? releaseSockClearingOwnedFirst(b) : [release_sock(SK)],
      tcp_recvmsg: tcpRecvmsg(b),
    },
    tasks: [{ name: 'reader', cpu: 1, body: [call('tcp_recvmsg')] }],
    irqs: [eth0(b)],
    softirqs: { NET_RX: netRxAction(b) },
    invariants: socketInvariants(b, false),
    expected: o.expected,
    twin: o.twin,
    assumes: [segmentsAssumption(b)],
  });
}

/** The bounds of the modern pair: eth0/NET_RX on cpu0, the reader on cpu1, 2 segments, backlog of 2. */
export const MODERN: ModernOptions = {
  name: 'tcp-lock_sock-backlog-modern',
  description:
    "The modern kernel's answer to Miller (≥4.14, no prequeue): NET_RX runs TCP when the socket is not owned and backlogs it when it is; release_sock drains the backlog " +
    "in the owner's context with BH on (≥4.9), then clears ownership. Checked: N1, N2, N3, N4, two payload reads per segment. eth0/NET_RX on cpu0, the reader on cpu1; " +
    '2 segments, backlog of 2.',
  packets: 2,
  backlog: 2,
  releaseSock: 'drain-then-release',
  expected: 'verified',
  twin: 'tcp-release_sock-clears-owned-first',
};

/** N2/N4: release_sock ends ownership before the backlog is drained. */
export const tcpReleaseSockClearsOwnedFirst = modernDesign({
  ...MODERN,
  name: 'tcp-release_sock-clears-owned-first',
  description:
    "The modern lock_sock/backlog with release_sock clearing sk_lock.owned (and waking) before it drains the backlog (N2, N4; Miller's backlog rule). " +
    'A segment backlogged while the reader owned the socket is still queued when NET_RX, finding the socket free, runs TCP on the next one at once: ' +
    'the later segment reaches the receive queue first. eth0/NET_RX on cpu0, the reader on cpu1; 2 segments, backlog of 2.',
  releaseSock: 'release-then-drain',
  expected: 'ordering',
  twin: 'tcp-lock_sock-backlog-modern',
});

/** The modern kernel: drain under ownership, then release. */
export const tcpLockSockBacklogModern = modernDesign(MODERN);
