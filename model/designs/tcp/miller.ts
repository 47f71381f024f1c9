/**
 * Miller's 1999 proposal (shared/seeds/miller-1999-tcp-in-process-context.txt):
 * run TCP input in the context of the process that owns the socket.
 *
 *   ethernet device interrupt → IP input → TCP input → find socket →
 *   bh_lock_sock, then one of three:
 *   (a) the owner is blocked in read (tp->ucopy.task, set under slock
 *       before it sleeps): hand it the segment on tp->ucopy.prequeue and
 *       wake it; it runs TCP itself, checksum and copy to user in one pass;
 *   (b) the owner holds the socket (lock_sock): append to the backlog,
 *       which its release_sock drains in process context;
 *   (c) otherwise: append to the backlog and wake a TCP input kernel
 *       thread, which takes lock_sock and drains it in release_sock
 *       (checksum now, copy when the reader gets to it: two passes).
 *
 * (c) queues on the backlog, not on a queue of the thread's own: whoever
 * owns the socket next drains it, so a reader whose lock_sock overtakes
 * the woken thread cannot process later segments before earlier ones.
 */
import {
  assign, call, defineDesign, dequeue, enqueue, eq, gt, if_, inc, ne, not, or, queue_len, r, sleep_on, spin_lock_bh,
  spin_unlock_bh, v, wait_event, wake_up, while_, type Design, type Stmt, type TaskSpec,
} from '../../dsl/design.ts';
import {
  allAccounted, bhLockSock, bhUnlockSock, BLOCKED_ARRIVALS, copyReceiveQueue, eth0, lockSock, netRxAction, ownedByUser, PREQUEUE, RECEIVE_QUEUE,
  releaseSock, SK_WQ, skAddBacklog, SLOCK, socketInvariants, segmentsAssumption, socketState, tcpPrequeueProcess, tcpRcvEstablished,
  tcpRcvOnePass, tcpV4DoRcv, UCOPY_TASK, ucopyState, type SockLock, type TcpBounds,
} from './socket.ts';

/** The TCP input kernel threads sleep here until a segment is queued for them. */
export const INPUT_WQ = 'tcp_input_wq';
/** A socket has segments on its backlog and nobody to process them: a thread should. */
export const INPUT_PENDING = 'tcp_input_pending';
/** kthread_stop() of the pool, by the reader when it is done. */
export const INPUT_STOP = 'tcp_input_should_stop';
/** The alternative to the backlog for (c): a queue of the input threads' own (see `threadQueue`). */
export const INPUT_QUEUE = 'tcp_input queue';

/** How a Miller design is put together; the catalogue's designs are instances. */
export interface MillerOptions extends TcpBounds {
  readonly name: string;
  readonly description: string;
  /** TCP input threads in the pool (1 or 2). */
  readonly threads: 1 | 2;
  /** The reader's CPU: 0 shares it with eth0 and NET_RX, 1 does not. */
  readonly readerCpu: 0 | 1;
  /** The input threads' CPU (all of them). */
  readonly threadCpu: 0 | 1;
  /**
   * How lock_sock takes slock: spin_lock_bh, or (the bug, B2) plain
   * spin_lock, which the lock_sock builder cannot express: that design
   * writes the socket lock by hand (socket.ts, SockLock).
   */
  readonly lockSockTake?: 'spin_lock_bh' | 'spin_lock';
  /** How the reader sleeps for data (the bug: check, then sleep_on). */
  readonly readerSleep?: 'wait_event' | 'sleep_on';
  /**
   * How the reader, owning the socket again after its wait, takes its name
   * off tp->ucopy.task: under slock (default), or (the bug) with a plain
   * WRITE_ONCE, racing with a NET_RX that has already tested it under slock
   * and is about to prequeue.
   */
  readonly ucopyClear?: 'under-slock' | 'WRITE_ONCE';
  /**
   * Where (c) leaves the segment for the input thread: on the socket's
   * backlog, which any owner drains, or (not in the catalogue: it breaks N4)
   * on a queue only the threads drain, which a reader taking lock_sock first
   * overtakes.
   */
  readonly threadQueue?: 'backlog' | 'own';
  readonly expected: Design['expected'];
  readonly twin: string;
}

/** tcp_v4_rcv after the socket lookup: the three ways of Miller's post. */
const tcpV4Rcv = (b: TcpBounds, threadQueue: 'backlog' | 'own', lock: SockLock): readonly Stmt[] => [
  bhLockSock(lock), // BH is already off in NET_RX
  if_(ne(v(UCOPY_TASK), 0), [
    // (a) "if socket_task is blocked in TCP read: wake up socket_task with high priority"
    inc(BLOCKED_ARRIVALS), enqueue(PREQUEUE, r('skb')), wake_up(SK_WQ),
  ], [
    if_(ownedByUser(lock), [
      // (b) the owner drains the backlog in release_sock
      ...skAddBacklog(b, lock),
    ], [
      // (c) "else pick and wake up TCP input kernel thread"
      ...(threadQueue === 'backlog' ? skAddBacklog(b, lock) : [enqueue(INPUT_QUEUE, r('skb'))]), assign(INPUT_PENDING, 1), wake_up(INPUT_WQ),
    ]),
  ]),
  bhUnlockSock(lock),
];

/** Data to read, or nothing more will ever come. */
const dataReady = (b: TcpBounds) => or(or(gt(queue_len(PREQUEUE), 0), gt(queue_len(RECEIVE_QUEUE), 0)), allAccounted(b));

/**
 * sk_wait_data with the reader's user buffer installed: tp->ucopy.task is
 * set under slock, the socket released (its backlog drained), and the
 * reader sleeps until a segment is handed to it or queued, then owns the
 * socket again and takes its name off ucopy.task, under slock: tcp_v4_rcv
 * tests ucopy.task and prequeues under slock, so a clear outside it could
 * fall between the two, and the reader would find the prequeue still empty,
 * wait again and release_sock a later backlogged segment ahead of the
 * prequeued one (N4). The 4.x kernel could not race there: tcp_v4_rcv
 * (net/ipv4/tcp_ipv4.c) calls tcp_prequeue only if !sock_owned_by_user(sk),
 * under bh_lock_sock, and tcp_recvmsg (net/ipv4/tcp.c) sets
 * tp->ucopy.task = NULL only while it owns the socket; Miller's (a) tests
 * ucopy.task first, whoever owns the socket, so the clear must take slock.
 */
const skWaitData = (b: TcpBounds, sleep: 'wait_event' | 'sleep_on', clear: 'under-slock' | 'WRITE_ONCE', lock: SockLock, take: 'spin_lock_bh' | 'spin_lock'): readonly Stmt[] => [
  spin_lock_bh(SLOCK), assign(UCOPY_TASK, 1), spin_unlock_bh(SLOCK),
  ...releaseSock(b, lock),
  sleep === 'wait_event'
    ? wait_event(SK_WQ, dataReady(b))
    // The 2.2 idiom: check, then sleep: a wake_up between the two is lost.
    : if_(not(dataReady(b)), [sleep_on(SK_WQ)]),
  ...lockSock(b, lock, take),
  ...(clear === 'under-slock' ? [spin_lock_bh(SLOCK), assign(UCOPY_TASK, 0), spin_unlock_bh(SLOCK)] : [assign(UCOPY_TASK, 0)]),
];

/**
 * tcp_recvmsg until every segment is copied (or dropped): copy what the
 * receive queue holds, then run the prequeue in this context, and only with
 * both empty sleep. The prequeue is processed before any release_sock: the
 * backlog holds segments that came after the prequeued ones.
 */
const tcpRecvmsg = (b: TcpBounds, lock: SockLock, take: 'spin_lock_bh' | 'spin_lock'): readonly Stmt[] => [
  ...lockSock(b, lock, take),
  while_(not(allAccounted(b)), [
    ...copyReceiveQueue(b),
    if_(gt(queue_len(PREQUEUE), 0), [call('tcp_prequeue_process')], [if_(not(allAccounted(b)), [call('sk_wait_data')])]),
  ], { bound: 2 * b.packets + 1 }),
  ...releaseSock(b, lock),
];

/**
 * A TCP input thread: sleep until woken for a socket, own it, and let
 * release_sock drain its backlog (with `threadQueue: 'own'`, first drain
 * the threads' queue while owning the socket).
 */
const tcpInputThread = (b: TcpBounds, threadQueue: 'backlog' | 'own', lock: SockLock, take: 'spin_lock_bh' | 'spin_lock'): readonly Stmt[] => {
  const own = threadQueue === 'own'
    ? [while_(gt(queue_len(INPUT_QUEUE), 0), [dequeue(INPUT_QUEUE, 'skb'), call('tcp_v4_do_rcv')], { bound: b.packets })]
    : [];
  return [
    while_(eq(v(INPUT_STOP), 0), [
      wait_event(INPUT_WQ, or(ne(v(INPUT_PENDING), 0), ne(v(INPUT_STOP), 0))),
      if_(ne(v(INPUT_PENDING), 0), [assign(INPUT_PENDING, 0), ...lockSock(b, lock, take), ...own, ...releaseSock(b, lock)]),
    ], { bound: b.packets + 1 }),
  ];
};

/** A Miller design from its options. */
export function millerDesign(o: MillerOptions): Design {
  const b: TcpBounds = { packets: o.packets, backlog: o.backlog };
  // B2 (lock_sock by spin_lock) needs the hand-written socket lock: the builder's is spin_lock_bh.
  const lock: SockLock = o.lockSockTake === 'spin_lock' ? 'hand-written' : 'builders';
  const take = o.lockSockTake ?? 'spin_lock_bh';
  const socket = socketState(b, lock);
  const ucopy = ucopyState(b);
  const threadQueue = o.threadQueue ?? 'backlog';
  const threads: TaskSpec[] = [...Array(o.threads).keys()].map((i) => ({ name: `tcp_input/${i}`, cpu: o.threadCpu, body: [call('tcp_input_thread')] }));
  return defineDesign({
    name: o.name,
    description: o.description,
    cpus: 2,
    ...(socket.socks ? { socks: socket.socks } : {}),
    locks: socket.locks,
    waitqueues: { ...socket.waitqueues, [INPUT_WQ]: {} },
    vars: { ...socket.vars, ...ucopy.vars, [INPUT_PENDING]: 0, [INPUT_STOP]: 0 },
    queues: { ...socket.queues, ...ucopy.queues, ...(threadQueue === 'own' ? { [INPUT_QUEUE]: { capacity: b.packets } } : {}) },
    functions: {
      tcp_v4_rcv: tcpV4Rcv(b, threadQueue, lock),
      tcp_rcv_established: tcpRcvEstablished(b),
      tcp_v4_do_rcv: tcpV4DoRcv,
      tcp_rcv_one_pass: tcpRcvOnePass,
      tcp_prequeue_process: tcpPrequeueProcess(b),
      sk_wait_data: skWaitData(b, o.readerSleep ?? 'wait_event', o.ucopyClear ?? 'under-slock', lock, take),
      tcp_recvmsg: tcpRecvmsg(b, lock, take),
      tcp_input_thread: tcpInputThread(b, threadQueue, lock, take),
    },
    tasks: [
      // The reader reads the whole stream, then stops the pool (kthread_stop).
      { name: 'reader', cpu: o.readerCpu, body: [call('tcp_recvmsg'), assign(INPUT_STOP, 1), wake_up(INPUT_WQ)] },
      ...threads,
    ],
    irqs: [eth0(b)],
    softirqs: { NET_RX: netRxAction(b) },
    invariants: socketInvariants(b, true),
    expected: o.expected,
    twin: o.twin,
    assumes: [segmentsAssumption(b)],
  });
}

/** The bounds and placement of the proposal as catalogued: reader with eth0/NET_RX on cpu0, one input thread on cpu1. */
export const MILLER_PROPOSAL: MillerOptions = {
  name: 'miller-tcp-process-context',
  description:
    "Miller's 1999 proposal: TCP input runs in the socket owner's context. NET_RX takes bh_lock_sock and hands the segment to the reader blocked in read (tp->ucopy.task), " +
    'to the backlog of the owner (lock_sock), or to the backlog and a TCP input thread. Checked: N1 (one context in TCP at a time), N2 (no segment stranded), ' +
    'N3 (each processed once or dropped), N4 (in order), and one payload read per segment for a blocked reader. 2 CPUs: eth0/NET_RX and the reader on cpu0, ' +
    'one input thread on cpu1; 2 segments, backlog of 2.',
  packets: 2,
  backlog: 2,
  threads: 1,
  readerCpu: 0,
  threadCpu: 1,
  expected: 'verified',
  twin: 'miller-tcp-lock_sock-spin_lock',
};

/** Miller's proposal, verified. */
export const millerTcpProcessContext = millerDesign(MILLER_PROPOSAL);

/** B2: lock_sock takes slock with plain spin_lock. */
export const millerLockSockSpinLock = millerDesign({
  ...MILLER_PROPOSAL,
  name: 'miller-tcp-lock_sock-spin_lock',
  description:
    "Miller's design with lock_sock taking sk_lock.slock by spin_lock instead of spin_lock_bh (B2). The reader on cpu0 holds slock with BH on; " +
    'eth0 arrives, its irq_exit runs NET_RX on top of the reader, and bh_lock_sock spins on the slock the reader holds: an AA deadlock on cpu0.',
  lockSockTake: 'spin_lock',
  expected: 'deadlock',
  twin: 'miller-tcp-process-context',
});

/** The placement of the lost-wakeup pair: eth0/NET_RX alone on cpu0, the reader and the input thread on cpu1. */
export const MILLER_READER_APART: MillerOptions = {
  name: 'miller-tcp-reader-wait_event',
  description:
    "Miller's design with the reader sleeping by wait_event(sk_wq, data or done), which sets the task state before it checks and re-checks after every wake_up: no lost wakeup. " +
    'eth0/NET_RX on cpu0, the reader and one TCP input thread on cpu1; 2 segments, backlog of 2; N1–N4 and the one-pass read checked as in miller-tcp-process-context.',
  packets: 2,
  backlog: 2,
  threads: 1,
  readerCpu: 1,
  threadCpu: 1,
  readerSleep: 'wait_event',
  expected: 'verified',
  twin: 'miller-tcp-reader-sleep_on',
};

/** Lost wakeup: the reader checks for data, then sleeps with sleep_on. */
export const millerReaderSleepOn = millerDesign({
  ...MILLER_READER_APART,
  name: 'miller-tcp-reader-sleep_on',
  description:
    "Miller's design with the reader checking for data and then calling interruptible_sleep_on (the 2.2 idiom, no wait-queue protocol): a lost wakeup. " +
    'NET_RX hands the last segment to the blocked reader and wakes it between the check and the sleep; nothing wakes it again: a hung reader. ' +
    'eth0/NET_RX on cpu0, the reader and one TCP input thread on cpu1; 2 segments, backlog of 2.',
  readerSleep: 'sleep_on',
  expected: 'hung-task',
  twin: 'miller-tcp-reader-wait_event',
});

/** The same placement with wait_event: the condition is re-checked after the task state is set. */
export const millerReaderWaitEvent = millerDesign(MILLER_READER_APART);

/** The reader placement at 3 segments: a third segment can be backlogged while the second is being prequeued. */
export const MILLER_READER_3: MillerOptions = {
  ...MILLER_READER_APART,
  name: 'miller-tcp-reader-clears-ucopy-under-slock',
  description:
    "Miller's design with the blocked reader (eth0/NET_RX on cpu0, the reader and one TCP input thread on cpu1) at 3 segments, backlog of 3, " +
    'the reader taking its name off tp->ucopy.task under sk_lock.slock once it owns the socket again: NET_RX tests ucopy.task and prequeues in one slock section, ' +
    'so a segment is either on the prequeue before the reader looks there, or goes to the backlog behind it (N4).',
  packets: 3,
  backlog: 3,
  twin: 'miller-tcp-reader-clears-ucopy-unlocked',
};

/** N4 at 3 segments: the reader clears ucopy.task with a plain WRITE_ONCE while NET_RX is between its test and its prequeue. */
export const millerReaderClearsUcopyUnlocked = millerDesign({
  ...MILLER_READER_3,
  name: 'miller-tcp-reader-clears-ucopy-unlocked',
  description:
    "Miller's design with the blocked reader at 3 segments, the reader clearing tp->ucopy.task with a plain WRITE_ONCE (N4). NET_RX tests ucopy.task under slock and only then prequeues segment 2; " +
    'in between the reader clears it, finds the prequeue empty and waits again; segment 3 goes to the backlog, and release_sock processes it before the prequeued segment 2: out of order. ' +
    'Two segments cannot show it.',
  ucopyClear: 'WRITE_ONCE',
  expected: 'ordering',
  twin: 'miller-tcp-reader-clears-ucopy-under-slock',
});

/** The clear under slock, at 3 segments. */
export const millerReaderClearsUcopyUnderSlock = millerDesign(MILLER_READER_3);
