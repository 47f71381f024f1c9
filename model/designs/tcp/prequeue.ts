/**
 * The 4.x prequeue (≈2.4 to 4.13, shared/kernel-semantics.md §7.2): what
 * became of Miller's blocked-reader path. A reader about to wait installs
 * tp->ucopy.task; NET_RX, finding the socket not owned, queues the segment
 * unprocessed on tp->ucopy.prequeue and wakes it; the reader runs it through
 * TCP itself (tcp_prequeue_process), copying straight to its buffer. There
 * are no input threads: a segment nobody waits for is processed in NET_RX.
 *
 * The ordering rule is the "Ugly…" comment of tcp_recvmsg: of the pseudo
 * queues in flight → backlog → prequeue → receive queue, each may be
 * processed only when the later ones are empty, and the backlog holds
 * segments that came after the prequeued ones, so the reader must run the
 * prequeue before it releases the socket.
 */
import {
  assign, call, defineDesign, enqueue, gt, if_, inc, ne, not, or, queue_len, r, v, wait_event, wake_up,
  while_, type Design, type Stmt,
} from '../../dsl/design.ts';
import { bh_lock_sock, bh_unlock_sock, lock_sock, release_sock, sock_owned_by_user } from '../../dsl/sock.ts';
import {
  allAccounted, BLOCKED_ARRIVALS, copyReceiveQueue, eth0, netRxAction, PREQUEUE, RECEIVE_QUEUE,
  SK, SK_WQ, skAddBacklog, socketInvariants, segmentsAssumption, socketState, tcpPrequeueProcess, tcpRcvEstablished, tcpRcvOnePass, tcpV4DoRcv,
  UCOPY_TASK, ucopyState, type TcpBounds,
} from './socket.ts';

const PROFILE = '4.x-prequeue' as const;

/** How a prequeue design is put together. */
export interface PrequeueOptions extends TcpBounds {
  readonly name: string;
  readonly description: string;
  /** The bug: release the socket (draining the backlog) with the prequeue still holding segments. */
  readonly prequeue: 'before-release_sock' | 'after-release_sock';
  readonly expected: Design['expected'];
  readonly twin: string;
}

/** tcp_v4_rcv (4.x): backlog if owned; else tcp_prequeue if a reader waits, else process in NET_RX. */
const tcpV4Rcv = (b: TcpBounds): readonly Stmt[] => [
  bh_lock_sock(SK),
  if_(sock_owned_by_user(SK), [...skAddBacklog(b)], [
    if_(ne(v(UCOPY_TASK), 0), [
      // tcp_prequeue: queue it unprocessed and wake the reader
      inc(BLOCKED_ARRIVALS), enqueue(PREQUEUE, r('skb')), wake_up(SK_WQ),
    ], [call('tcp_v4_do_rcv')]),
  ]),
  bh_unlock_sock(SK),
];

/**
 * tcp_recvmsg (4.x), reading until every segment is copied or dropped. The
 * reader installs ucopy.task once it owns the socket. Each round copies the
 * receive queue and then sleeps in sk_wait_data, which releases the socket
 * (so drains the backlog) around the wait. The fixed reader runs the
 * prequeue before that release_sock, as tcp_recvmsg's "goto do_prequeue"
 * does; the buggy one only after it, once the backlog is drained.
 */
const tcpRecvmsg = (b: TcpBounds, when: PrequeueOptions['prequeue']): readonly Stmt[] => {
  const wait = wait_event(SK_WQ, or(or(gt(queue_len(RECEIVE_QUEUE), 0), gt(queue_len(PREQUEUE), 0)), allAccounted(b)));
  const skWaitData: readonly Stmt[] = when !== 'after-release_sock'
    ? [call('tcp_prequeue_process'), release_sock(SK), wait, lock_sock(SK)]
    : [release_sock(SK), call('tcp_prequeue_process'), wait, lock_sock(SK)];
  return [
    lock_sock(SK),
    assign(UCOPY_TASK, 1),
    while_(not(allAccounted(b)), [...copyReceiveQueue(b), if_(not(allAccounted(b)), skWaitData)], { bound: 2 * b.packets + 1 }),
    assign(UCOPY_TASK, 0),
    release_sock(SK),
  ];
};

/** A prequeue design: profile 4.x-prequeue (backlog drained with BH off), eth0/NET_RX on cpu0, the reader on cpu1. */
export function prequeueDesign(o: PrequeueOptions): Design {
  const b: TcpBounds = { packets: o.packets, backlog: o.backlog };
  const socket = socketState(b);
  const ucopy = ucopyState(b);
  return defineDesign({
    name: o.name,
    description: o.description,
    cpus: 2,
    profile: PROFILE,
    socks: socket.socks,
    locks: socket.locks,
    waitqueues: socket.waitqueues,
    vars: { ...socket.vars, ...ucopy.vars },
    queues: { ...socket.queues, ...ucopy.queues },
    functions: {
      tcp_v4_rcv: tcpV4Rcv(b),
      tcp_rcv_established: tcpRcvEstablished(b),
      tcp_v4_do_rcv: tcpV4DoRcv,
      tcp_rcv_one_pass: tcpRcvOnePass,
      tcp_prequeue_process: tcpPrequeueProcess(b),
      tcp_recvmsg: tcpRecvmsg(b, o.prequeue),
    },
    tasks: [{ name: 'reader', cpu: 1, body: [call('tcp_recvmsg')] }],
    irqs: [eth0(b)],
    softirqs: { NET_RX: netRxAction(b) },
    invariants: socketInvariants(b, true),
    expected: o.expected,
    twin: o.twin,
    assumes: [segmentsAssumption(b)],
  });
}

/** The bounds of the prequeue pair: profile 4.x-prequeue, eth0/NET_RX on cpu0, the reader on cpu1, 2 segments, backlog of 2. */
export const PREQUEUE_4X: PrequeueOptions = {
  name: 'tcp-prequeue-before-release_sock',
  description:
    "The pre-4.14 prequeue as the kernel had it: before releasing the socket the reader runs the prequeue (tcp_recvmsg's \"Ugly…\" goto do_prequeue), so the backlog's later " +
    "segments follow the prequeued ones (N4; Miller's blocked-reader path, one payload read per prequeued segment). Profile 4.x-prequeue; eth0/NET_RX on cpu0, the reader on cpu1; " +
    '2 segments, backlog of 2.',
  packets: 2,
  backlog: 2,
  prequeue: 'before-release_sock',
  expected: 'verified',
  twin: 'tcp-prequeue-after-release_sock',
};

/** N4: the prequeue run after release_sock has drained later segments from the backlog. */
export const prequeueAfterReleaseSock = prequeueDesign({
  ...PREQUEUE_4X,
  name: 'tcp-prequeue-after-release_sock',
  description:
    "The pre-4.14 prequeue, Miller's blocked-reader path as it shipped, with the reader running the prequeue only after release_sock (N4). " +
    'release_sock drains the backlog, whose segments arrived after the prequeued ones, so a later segment reaches the receive queue first: out-of-order delivery. ' +
    'Profile 4.x-prequeue; eth0/NET_RX on cpu0, the reader on cpu1; 2 segments, backlog of 2.',
  prequeue: 'after-release_sock',
  expected: 'ordering',
  twin: 'tcp-prequeue-before-release_sock',
});

/** tcp_recvmsg's "Ugly…" rule: run the prequeue before releasing the socket. */
export const prequeueBeforeReleaseSock = prequeueDesign(PREQUEUE_4X);
