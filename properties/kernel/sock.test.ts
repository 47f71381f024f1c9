/**
 * model/kernel/sock.ts: the socket lock (lock_sock, release_sock and the
 * backlog drained in the owner's context, bh_lock_sock,
 * sock_owned_by_user, sk_add_backlog) and socket references (sock_hold,
 * sock_put, sk_reset_timer, sk_stop_timer) (net/core/sock.c,
 * include/net/sock.h).
 */
import { describe, expect, it } from 'vitest';
import {
  __raise_softirq_irqoff, __release_sock, add, bh_lock_sock, bh_unlock_sock, call, check, compile, defineDesign, DesignError, dequeue, enqueue, eq, gt,
  if_, inc, load, lock_sock, mod_timer, mutex_lock, mutex_unlock, queue_len, r, release_sock, repeat, sk_add_backlog, sk_reset_timer, sk_stop_timer,
  sock_hold, sock_owned_by_user, sock_put, sock_release_ownership, spin_lock_bh, spin_unlock_bh, v, wake_up, type Design, type Stmt, type TaskSpec,
} from '../../model/index.ts';
import { reachesInOrder } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

/** tcp_v4_rcv's socket part: under bh_lock_sock, process now or queue on the backlog for the owner. */
const tcpV4Rcv: readonly Stmt[] = [
  bh_lock_sock('sk'),
  if_(sock_owned_by_user('sk'), [if_(sk_add_backlog('sk', r('skb'), 1), [inc('drops')])], [call('tcp_v4_do_rcv')]),
  bh_unlock_sock('sk'),
];
const design = (tasks: readonly TaskSpec[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'sock', cpus: 2, locks: { M: 'mutex' }, vars: { sent: 0, done: 0, drops: 0, intcp: 0 }, queues: { ring: { capacity: 2 } },
  socks: { sk: { backlog: 2, backlog_rcv: 'tcp_v4_do_rcv' } },
  functions: { tcp_v4_do_rcv: [inc('intcp'), inc('done'), { op: 'dec', var: 'intcp' }], tcp_v4_rcv: tcpV4Rcv },
  irqs: [{ name: 'eth0', cpus: [0], budget: 2, handler: [inc('sent'), enqueue('ring', v('sent')), __raise_softirq_irqoff('NET_RX')] }],
  softirqs: { NET_RX: [repeat(2, [if_(gt(queue_len('ring'), 0), [dequeue('ring', 'skb'), call('tcp_v4_rcv')])])] },
  tasks,
  invariants: [
    { name: 'one tcp_v4_do_rcv at a time', holds: { fn: '<=', args: [v('intcp'), 1] } },
    { name: 'every segment processed or dropped', holds: eq(add(v('done'), v('drops')), v('sent')), when: 'at-end' },
    { name: 'nothing stranded on the backlog', holds: eq(queue_len('sk->sk_backlog'), 0), when: 'at-end' },
  ],
  ...extra,
});
const reader = (body: readonly Stmt[] = [load('x', v('done'))], cpu = 1): TaskSpec => ({ name: 'reader', cpu, body: [lock_sock('sk'), ...body, release_sock('sk')] });

describe('lock_sock / release_sock', () => {
  it('the socket lock protects tcp_v4_do_rcv against the softirq, and the backlog is drained by the owner: verified', () => {
    expect(check(design([reader()])).status).toBe('verified');
  });

  it('a segment arriving while the task owns the socket goes on the backlog and is processed by release_sock, in the owner\'s context', () => {
    const d = design([reader()]);
    expect(reachesInOrder(d, ['[task reader]: lock_sock', 'sk_add_backlog(&sk', 'cpu1 [task reader]: release_sock(&sk): sk_backlog_rcv(&sk,', 'sock_release_ownership'])).toBe(true);
  });

  it('lock_sock on a socket another task owns sleeps on sk_lock.wq until release_sock wakes it', () => {
    const d = design([reader([], 0), { name: 'other', cpu: 1, body: [lock_sock('sk'), inc('done'), release_sock('sk')] }], { irqs: [], invariants: [] });
    expect(reachesInOrder(d, ['owned by task reader, sleeps on &sk->sk_lock.wq', 'sock_release_ownership', 'released; spin_lock_bh'])).toBe(true);
    expect(check(d).status).toBe('verified');
  });

  it('lock_sock sleeps: under a spinlock or in softirq it sleeps in atomic context', () => {
    const v1 = check(design([{ name: 'reader', cpu: 1, body: [spin_lock_bh('sk->sk_lock.slock'), lock_sock('sk'), release_sock('sk'), spin_unlock_bh('sk->sk_lock.slock')] }], { irqs: [] }));
    expect(v1.violation?.kind).toBe('sleep-in-atomic');
  });

  it('lock_sock twice by the owner is recursive locking: a deadlock (S2)', () => {
    const v1 = check(design([reader([lock_sock('sk')])], { irqs: [] }));
    expect(v1.violation?.kind).toBe('deadlock');
  });

  it('release_sock by a task that does not own the socket: bad unlock balance', () => {
    expect(check(design([{ name: 'reader', cpu: 1, body: [release_sock('sk')] }], { irqs: [] })).violation?.kind).toBe('lock-misuse');
  });

  it('returning to user space with the socket owned is a lock leak', () => {
    expect(check(design([{ name: 'reader', cpu: 1, body: [lock_sock('sk')] }], { irqs: [] })).violation?.kind).toBe('lock-leak');
  });

  it('lock_sock\'s spin_unlock_bh is a softirq run point: NET_RX pending on its CPU runs there', () => {
    const d = design([reader([], 0)]);
    const s = new Schedule(d);
    s.take('[task reader]: lock_sock(&sk): spin_lock_bh(&sk->sk_lock.slock): local_bh_disable');
    s.run('eth0 interrupt arrives', 'sent++', '__skb_queue_tail', '__raise_softirq_irqoff', '[hardirq eth0]: return');
    expect(s.can('[softirq]')).toBe(false); // BH is off: irq_exit leaves NET_RX pending
    s.run('[task reader]: lock_sock(&sk): acquires', '[task reader]: lock_sock(&sk): spin_unlock_bh');
    // The task's next step is the softirq (another interrupt may come first).
    expect(s.enabledLabels().filter((l) => l.startsWith('cpu0') && !l.includes('interrupt arrives'))).toEqual(['cpu0 [softirq]: __do_softirq: run NET_RX handler']);
  });

  it('a design may write its own release_sock from __release_sock and sock_release_ownership; dropping ownership before the drain strands segments', () => {
    const own = (early: boolean): Stmt[] => [
      spin_lock_bh('sk->sk_lock.slock'),
      ...(early ? [sock_release_ownership('sk'), __release_sock('sk')] : [__release_sock('sk'), sock_release_ownership('sk')]),
      wake_up('sk->sk_lock.wq'),
      spin_unlock_bh('sk->sk_lock.slock'),
    ];
    expect(check(design([{ name: 'reader', cpu: 1, body: [lock_sock('sk'), load('x', v('done')), ...own(false)] }])).status).toBe('verified');
    expect(check(design([{ name: 'reader', cpu: 1, body: [lock_sock('sk'), load('x', v('done')), ...own(true)] }])).violation).not.toBeNull();
  });
});

describe('bh_lock_sock, sock_owned_by_user, sk_add_backlog', () => {
  it('bh_lock_sock is spin_lock of the slock, in the softirq (BH already off)', () => {
    const s = new Schedule(design([{ name: 'reader', cpu: 1, body: [] }]));
    // Deliver one segment on cpu0 and follow it into tcp_v4_rcv.
    for (let i = 0; i < 30 && !s.labels.some((l) => l.includes('bh_lock_sock')); i++) {
      const next = s.enabledLabels().find((l) => l.startsWith('cpu0'));
      if (!next) break;
      s.take(next);
    }
    expect(s.labels[s.labels.length - 1]).toBe('cpu0 [softirq NET_RX]: bh_lock_sock(&sk)');
    expect([s.lock('sk->sk_lock.slock') !== 0, s.topName(0)]).toEqual([true, 'softirq NET_RX']);
  });

  it('sock_owned_by_user without the slock or ownership: sock_owned_by_me\'s WARN_ON_ONCE (B26)', () => {
    const v1 = check(design([{ name: 'reader', cpu: 1, body: [if_(sock_owned_by_user('sk'), [inc('done')])] }], { irqs: [] }));
    expect(v1.violation?.message).toContain('sock_owned_by_me');
  });

  it('sk_add_backlog refuses past its limit (-ENOBUFS) and the caller drops the segment', () => {
    const d = design([reader()], { socks: { sk: { backlog: 2, backlog_rcv: 'tcp_v4_do_rcv' } }, functions: {
      tcp_v4_do_rcv: [inc('done')],
      tcp_v4_rcv: [bh_lock_sock('sk'), if_(sock_owned_by_user('sk'), [if_(sk_add_backlog('sk', r('skb'), 0), [inc('drops')])], [call('tcp_v4_do_rcv')]), bh_unlock_sock('sk')],
    }, invariants: [] });
    expect(reachesInOrder(d, ['-ENOBUFS'])).toBe(true);
  });

  it('sk_add_backlog outside the slock is misuse', () => {
    const v1 = check(design([{ name: 'reader', cpu: 1, body: [lock_sock('sk'), sk_add_backlog('sk', 1, 1), release_sock('sk')] }], { irqs: [] }));
    expect(v1.violation).not.toBeNull();
  });
});

describe('socket references', () => {
  /** A socket with two references: the caller's and the hash table's (released last by unhashing). */
  const refs = (body: readonly Stmt[]): Design => design([{ name: 'reader', cpu: 1, body }], {
    irqs: [], invariants: [], vars: { sent: 0, done: 0, drops: 0, intcp: 0, 'sk->x': 0 }, structs: { sk: { members: ['sk->x', 'sk', 'sk->t'] } },
    socks: { sk: { backlog: 2, backlog_rcv: 'tcp_v4_do_rcv', refcnt: 2 } },
    timers: { 'sk->t': { func: 'expire' } }, functions: { tcp_v4_do_rcv: [], tcp_v4_rcv: [], expire: [inc('sk->x'), sock_put('sk')] },
  });

  it('sock_put of the last reference frees the socket (sk_free); a touch after it is a use-after-free', () => {
    expect(check(refs([sock_hold('sk'), sock_put('sk'), sock_put('sk'), sock_put('sk')])).status).toBe('verified');
    expect(check(refs([sock_put('sk'), sock_put('sk'), inc('sk->x')])).violation?.kind).toBe('use-after-free');
  });

  it('one sock_put too many: a use-after-free (KASAN first: the struct is already gone)', () => {
    expect(check(refs([sock_put('sk'), sock_put('sk'), sock_put('sk')])).violation?.kind).toBe('use-after-free');
  });

  it('sk_reset_timer takes a reference for the timer it arms; sk_stop_timer drops it if it was pending', () => {
    const s = new Schedule(refs([sk_reset_timer('sk', 'sk->t'), sk_stop_timer('sk', 'sk->t'), sock_put('sk')]));
    s.run('[task reader]: mod_timer(&sk->t', '[task reader]: if (the timer was not pending) → true', '[task reader]: refcount_inc');
    expect(s.variable('sk->sk_refcnt')).toBe(3);
    s.run('[task reader]: del_timer(&sk->t)', '[task reader]: if (the timer was pending) → true', '[task reader]: refcount_dec');
    expect(s.variable('sk->sk_refcnt')).toBe(2);
    expect(check(refs([sk_reset_timer('sk', 'sk->t'), sk_stop_timer('sk', 'sk->t'), sock_put('sk'), sock_put('sk')])).status).toBe('verified');
  });

  it('a timer that fires holds its reference until its own sock_put: the last other put does not free under it', () => {
    expect(check(refs([sk_reset_timer('sk', 'sk->t'), sock_put('sk'), sock_put('sk')])).status).toBe('verified');
  });

  it('a timer armed with mod_timer but no sock_hold: its sock_put is one too many', () => {
    expect(check(refs([mod_timer('sk->t', 1), sock_put('sk'), sock_put('sk')])).violation?.kind).toBe('use-after-free');
  });
});

describe('declarations', () => {
  it('the socket\'s embedded names are claimed: a design may not declare them again', () => {
    expect(() => compile(design([reader()], { locks: { 'sk->sk_lock.slock': 'spinlock' } }))).toThrow(DesignError);
  });

  it('backlog_rcv must be a design function', () => {
    expect(() => compile(design([reader()], { socks: { sk: { backlog: 1, backlog_rcv: 'nope' } } }))).toThrow(DesignError);
  });

  it('a backlog_rcv that sleeps runs in the owner\'s task context and may (release_sock drops the slock first)', () => {
    const d = design([reader()], { functions: { tcp_v4_do_rcv: [mutex_lock('M'), inc('done'), mutex_unlock('M')], tcp_v4_rcv: tcpV4Rcv }, invariants: [] });
    // The softirq path calls it too, where it may not sleep: only the softirq's call is reported.
    const v1 = check(d);
    expect(v1.violation?.kind).toBe('sleep-in-atomic');
    expect(v1.violation?.message).toContain('softirq');
  });
});
