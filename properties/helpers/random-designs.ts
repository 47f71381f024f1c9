/**
 * Random small designs for properties over the explorers: 1–3 CPUs, a few
 * locks of random kinds (spinlock, rwlock, mutex, rw_semaphore, local_lock)
 * taken with random variants, tasks, interrupt lines, a softirq, a
 * tasklet, a timer and a work item, with racy and locked updates of shared
 * variables, sleeping calls where they are allowed and sometimes where
 * they are not. Up to two further mechanisms join a design (`Extra`): a
 * socket (lock_sock/release_sock, __release_sock, the backlog from BH
 * context, the prequeue hand-off by wait_event and wake_up), atomics and
 * refcounts, RCU readers and updaters (and, rarely, synchronize_rcu), a
 * seqcount, a NAPI instance, an irq_work, a kthread started and stopped by
 * a task, a struct allocated by kmalloc and freed by kfree, and a task
 * that may migrate under CONFIG_PREEMPT (smp_processor_id). Built from
 * well-formed blocks (every lock taken is released, in the same context)
 * but in random orders across contexts, so deadlocks, sleeping in atomic
 * context, lost updates, use-after-free and invariant failures all occur.
 */
import fc from 'fast-check';
import {
  __release_sock, add, and, assign, atomic_cmpxchg, atomic_dec_and_test, atomic_inc, bh_lock_sock, bh_unlock_sock, defineDesign, down_read,
  down_read_trylock, down_write, downgrade_write, eq, gt, if_, inc, init_rwsem, irq_work_queue, irq_work_sync, kfree, kmalloc, kref_get,
  kref_put, kthread_run, kthread_should_stop, kthread_stop, le, load, local_bh_disable, local_bh_enable, local_irq_restore,
  local_irq_save, local_lock, local_lock_init, local_lock_irq, local_lock_irqsave, local_unlock, local_unlock_irq,
  local_unlock_irqrestore, lock_sock, lt, mutex_init, mutex_lock, mutex_lock_nested, mutex_unlock, napi_complete_done, napi_disable,
  napi_enable, napi_schedule, ne, not, preempt_disable, preempt_enable, r, raise_softirq, rcu_assign_pointer, rcu_dereference,
  rcu_dereference_bh, rcu_read_lock, rcu_read_lock_bh, rcu_read_unlock, rcu_read_unlock_bh, read_lock, read_lock_bh,
  read_seqcount_begin, read_seqcount_retry, read_unlock, read_unlock_bh, refcount_dec, refcount_inc_not_zero, release_sock,
  sk_add_backlog, smp_processor_id, sock_owned_by_user, sock_owned_by_user_nocheck, sock_release_ownership, clear_bit, test_bit, this_cpu_read, spin_lock, spin_lock_bh, spin_lock_irq,
  spin_lock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irq, spin_unlock_irqrestore, synchronize_rcu, test_and_set_bit,
  this_cpu_inc, queue_len, up_read, up_write, v, wait_event, wake_up, while_, write_lock, write_lock_irqsave, write_seqcount_begin,
  write_seqcount_end, write_unlock, write_unlock_irqrestore, BUG_ON, type Design, type Gfp, type Invariant, type Stmt,
} from '../../model/index.ts';
import { tasklet_schedule } from '../../model/dsl/tasklet.ts';
import { mod_timer } from '../../model/dsl/timer.ts';
import { schedule_work } from '../../model/dsl/workqueue.ts';

type LockKind = 'spinlock' | 'rwlock' | 'mutex' | 'rw_semaphore' | 'local_lock';

/** A mechanism a design may add to its locks and deferred work. */
type Extra = 'sock' | 'atomic' | 'rcu' | 'seqcount' | 'napi' | 'irq_work' | 'kthread' | 'lifetime' | 'migrate';
const EXTRAS: readonly Extra[] = ['sock', 'atomic', 'rcu', 'seqcount', 'napi', 'irq_work', 'kthread', 'lifetime', 'migrate'];

/** Where a block runs: a task may sleep; an interrupt handler, softirq, tasklet or timer may not. */
type Where = 'task' | 'atomic';

interface Shape {
  readonly cpus: number;
  readonly locks: readonly LockKind[];
  readonly softirq: boolean;
  readonly tasklet: boolean;
  readonly timer: boolean;
  readonly work: boolean;
  readonly extras: readonly Extra[];
  /** The kthread's CPU, kmalloc's flags and whether it may fail (used with those extras). */
  readonly kthreadCpu: number;
  readonly gfp: Gfp;
  readonly mayFail: boolean;
}

const LOCK = (i: number) => `L${i}`;
const SK = 'sk';
const SLOCK = `${SK}->sk_lock.slock`;

/** One block of statements, well formed, for a context of kind `where`. */
function block(shape: Shape, where: Where): fc.Arbitrary<Stmt[]> {
  const has = (e: Extra): boolean => shape.extras.includes(e);
  const bodies: Stmt[][] = [
    [inc('x')],
    [load('t', v('x')), assign('x', add(r('t'), 1))],
    [inc('y')],
    [BUG_ON(gt(v('x'), 6), 'x too large')],
  ];
  if (has('atomic')) {
    bodies.push(
      [atomic_inc('x')],
      [test_and_set_bit(0, 'b', 'bit'), if_(r('bit'), [inc('x')])],
      [atomic_cmpxchg('x', v('x'), add(v('x'), 1), 'old')],
      [refcount_inc_not_zero('rc', 'got'), if_(r('got'), [refcount_dec('rc')])],
      [atomic_dec_and_test('y', 'zero'), if_(r('zero'), [inc('x')])],
    );
  }
  if (has('lifetime')) bodies.push([inc('w')]);
  if (has('migrate')) bodies.push([load('c', smp_processor_id()), this_cpu_inc('pcx'), BUG_ON(and(eq(r('c'), 1), eq(v('x'), 0)), 'moved first')]);
  const body = fc.constantFrom<Stmt[]>(...bodies);
  const options: fc.Arbitrary<Stmt[]>[] = [body];
  /** Rarer blocks: waits and wake-ups, a *_init of a lock (under whoever holds it), a grace period. */
  const rare: fc.Arbitrary<Stmt[]>[] = where === 'task' ? [fc.constant([wait_event('wq', gt(v('y'), 0))]), fc.constant([inc('y'), wake_up('wq')])] : [];
  shape.locks.forEach((kind, i) => {
    const l = LOCK(i);
    if (kind === 'spinlock') {
      options.push(fc.tuple(fc.constantFrom('plain', 'bh', 'irq', 'irqsave'), body).map(([flavour, b]) => {
        switch (flavour) {
          case 'bh': return [spin_lock_bh(l), ...b, spin_unlock_bh(l)];
          case 'irq': return [spin_lock_irq(l), ...b, spin_unlock_irq(l)];
          case 'irqsave': return [spin_lock_irqsave(l, 'f'), ...b, spin_unlock_irqrestore(l, 'f')];
          default: return [spin_lock(l), ...b, spin_unlock(l)];
        }
      }));
    } else if (kind === 'rwlock') {
      options.push(fc.tuple(fc.constantFrom('read', 'read_bh', 'write', 'write_irqsave'), body).map(([mode, b]) => {
        switch (mode) {
          case 'read': return [read_lock(l), ...b, read_unlock(l)];
          case 'read_bh': return [read_lock_bh(l), ...b, read_unlock_bh(l)];
          case 'write_irqsave': return [write_lock_irqsave(l, 'f'), ...b, write_unlock_irqrestore(l, 'f')];
          default: return [write_lock(l), ...b, write_unlock(l)];
        }
      }));
    } else if (kind === 'local_lock') {
      // Per-CPU data under this CPU's instance: any context (nested on one CPU, lockdep's DEBUG_LOCKS_WARN_ON).
      options.push(fc.tuple(fc.constantFrom('plain', 'irq', 'irqsave'), body).map(([flavour, b]) => {
        switch (flavour) {
          case 'irq': return [local_lock_irq(l), this_cpu_inc('pcx'), ...b, local_unlock_irq(l)];
          case 'irqsave': return [local_lock_irqsave(l, 'f'), this_cpu_inc('pcx'), ...b, local_unlock_irqrestore(l, 'f')];
          default: return [local_lock(l), this_cpu_inc('pcx'), ...b, local_unlock(l)];
        }
      }));
      if (where === 'task') rare.push(fc.constant([local_lock_init(l)]));
    } else if (where === 'task' && kind === 'mutex') {
      options.push(fc.tuple(fc.boolean(), body).map(([nested, b]) => [nested ? mutex_lock_nested(l, 1) : mutex_lock(l), ...b, mutex_unlock(l)]));
      rare.push(fc.constant([mutex_init(l)]));
    } else if (where === 'task' && kind === 'rw_semaphore') {
      options.push(fc.tuple(fc.constantFrom('read', 'write', 'trylock', 'downgrade'), body).map(([mode, b]) => {
        switch (mode) {
          case 'read': return [down_read(l), ...b, up_read(l)];
          case 'trylock': return [if_(down_read_trylock(l), [...b, up_read(l)])];
          case 'downgrade': return [down_write(l), ...b, downgrade_write(l), inc('y'), up_read(l)];
          default: return [down_write(l), ...b, up_write(l)];
        }
      }));
      rare.push(fc.constant([init_rwsem(l)]));
    }
  });
  // Two locks nested, in a random order: ABBA across contexts.
  const spins = shape.locks.flatMap((k, i) => (k === 'spinlock' ? [i] : []));
  if (spins.length >= 2) {
    options.push(fc.tuple(fc.shuffledSubarray(spins, { minLength: 2, maxLength: 2 }), body).map(([[a, b], s]) => [
      spin_lock_irqsave(LOCK(a!), 'f'), spin_lock(LOCK(b!)), ...s, spin_unlock(LOCK(b!)), spin_unlock_irqrestore(LOCK(a!), 'f'),
    ]));
  }
  options.push(body.map((b) => [local_irq_save('g'), ...b, local_irq_restore('g')]));
  if (where === 'task') options.push(body.map((b) => [local_bh_disable(), ...b, local_bh_enable()]));
  if (shape.softirq) options.push(fc.constant([raise_softirq('NET_RX')]));
  if (shape.tasklet) options.push(fc.constant([tasklet_schedule('tl')]));
  if (shape.timer && where === 'task') options.push(fc.constant([mod_timer('tm', 1)]));
  if (shape.work) options.push(fc.constant([schedule_work('wk')]));
  if (has('sock')) {
    if (where === 'task') {
      // The owner: lock_sock, work, release_sock (or the drain by hand: __release_sock and the ownership released
      // without the wake-up); the reader's prequeue hand-off: wait for y, then take it.
      options.push(body.map((b) => [lock_sock(SK), ...b, release_sock(SK)]));
      options.push(body.map((b) => [lock_sock(SK), ...b, spin_lock_bh(SLOCK), __release_sock(SK), sock_release_ownership(SK), spin_unlock_bh(SLOCK)]));
      options.push(fc.constant([wait_event('wq', gt(v('y'), 0)), lock_sock(SK), inc('x'), release_sock(SK)]));
    } else {
      // tcp_v4_rcv: bh_lock_sock; owned: the backlog; else processed here and the reader woken.
      options.push(fc.constant([
        bh_lock_sock(SK), sock_owned_by_user(SK, 'owned'),
        if_(r('owned'), [sk_add_backlog(SK, 1, 1)], [inc('x'), inc('y'), wake_up('wq')]),
        bh_unlock_sock(SK),
      ]));
    }
  }
  if (has('atomic')) options.push(fc.constant([kref_get('rc'), kref_put('rc', 'rc_release')]));
  if (has('rcu')) {
    options.push(body.map((b) => [rcu_read_lock(), rcu_dereference('p', 'ptr'), ...b, BUG_ON(lt(r('p'), 0), 'bad pointer'), rcu_read_unlock()]));
    options.push(fc.constant([rcu_assign_pointer('ptr', add(v('x'), 1))]));
    if (where === 'task') options.push(fc.constant([rcu_read_lock_bh(), rcu_dereference_bh('p', 'ptr'), assign('x', r('p')), rcu_read_unlock_bh()]));
  }
  if (has('seqcount')) {
    // A bare seqcount_t: writers with preemption off; a reader that takes two reads as one snapshot unless the sequence moved.
    options.push(body.map((b) => [preempt_disable(), write_seqcount_begin('sq'), ...b, write_seqcount_end('sq'), preempt_enable()]));
    options.push(fc.constant([
      read_seqcount_begin('sq', 'q'), load('t', v('x')), load('u', v('x')),
      BUG_ON(and(not(read_seqcount_retry('sq', r('q'))), ne(r('t'), r('u'))), 'torn read'),
    ]));
  }
  if (has('napi')) {
    options.push(fc.constant([napi_schedule('nap')]));
    if (where === 'task') options.push(body.map((b) => [napi_disable('nap'), ...b, napi_enable('nap')]));
  }
  if (has('irq_work')) {
    options.push(fc.constant([irq_work_queue('iw')]));
    if (where === 'task') options.push(fc.constant([irq_work_sync('iw')]));
  }
  if (has('lifetime')) options.push(fc.constant([kfree('obj')]));
  if (has('rcu') && where === 'task') rare.push(fc.constant([rcu_assign_pointer('ptr', 0), synchronize_rcu()]));
  // The waits are rarer so that not every design hangs.
  return fc.oneof({ arbitrary: fc.oneof(...options), weight: 6 }, ...rare.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const code = (shape: Shape, where: Where, max: number): fc.Arbitrary<Stmt[]> =>
  fc.array(block(shape, where), { minLength: 1, maxLength: max }).map((blocks) => blocks.flat());

/** Random small designs of these lock kinds and extras (see the file comment). */
const smallDesigns = (lockKinds: readonly LockKind[], extras: readonly Extra[]): fc.Arbitrary<Design> => fc.record({
  cpus: fc.integer({ min: 1, max: 3 }),
  locks: fc.array(fc.constantFrom<LockKind>(...lockKinds), { minLength: 1, maxLength: 3 }),
  softirq: fc.boolean(),
  tasklet: fc.boolean(),
  timer: fc.boolean(),
  work: fc.boolean(),
  extras: fc.subarray([...extras], { minLength: 1, maxLength: 2 }),
  kthreadCpu: fc.integer({ min: 0, max: 2 }),
  gfp: fc.constantFrom<Gfp>('GFP_KERNEL', 'GFP_ATOMIC'),
  mayFail: fc.boolean(),
}).map((shape) => ({ ...shape, kthreadCpu: shape.kthreadCpu % shape.cpus })).chain((shape) => fc.record({
  shape: fc.constant(shape),
  tasks: fc.array(fc.tuple(fc.integer({ min: 0, max: shape.cpus - 1 }), code(shape, 'task', 2)), { minLength: 1, maxLength: 3 }),
  irqs: fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: shape.cpus - 1 }), fc.integer({ min: 1, max: 2 }), code(shape, 'atomic', 2)), { maxLength: 2 }),
  softirq: code(shape, 'atomic', 2),
  tasklet: code(shape, 'atomic', 2),
  timer: code(shape, 'atomic', 1),
  work: code(shape, 'task', 2),
  kthread: code(shape, 'task', 1),
  poll: code(shape, 'atomic', 1),
  irqWork: code(shape, 'atomic', 1),
  invariant: fc.option(fc.constantFrom<Invariant>(
    { name: 'x small', holds: le(v('x'), 5) },
    { name: 'x at least y', holds: { fn: '>=', args: [add(v('x'), 3), v('y')] } },
  ), { freq: 3 }),
})).map(({ shape, tasks, irqs, softirq, tasklet, timer, work, kthread, poll, irqWork, invariant }) => {
  const needs = (op: string) => JSON.stringify([tasks, irqs, softirq, tasklet, timer, work, kthread, poll, irqWork]).includes(`"${op}"`);
  const has = (e: Extra): boolean => shape.extras.includes(e);
  // With a NAPI, NET_RX is the kernel's net_rx_action: the design's own softirq takes NET_TX.
  const vector = has('napi') ? 'NET_TX' : 'NET_RX';
  const withVector = (s: readonly Stmt[]): Stmt[] => JSON.parse(JSON.stringify(s).replaceAll('"vec":"NET_RX"', `"vec":"${vector}"`)) as Stmt[];
  // The first task allocates the struct, starts the kthread (once each: a struct models one allocation) and stops it at the end.
  const first = (body: Stmt[]): Stmt[] => [
    ...(has('lifetime') ? [kmalloc('obj', shape.gfp, { mayFail: shape.mayFail })] : []),
    ...(has('kthread') ? [kthread_run('kt')] : []),
    ...body,
    ...(has('kthread') ? [kthread_stop('kt')] : []),
  ];
  return defineDesign({
    name: 'random',
    cpus: shape.cpus,
    locks: Object.fromEntries(shape.locks.map((k, i) => [LOCK(i), k])),
    vars: { x: 0, y: 0, ...(has('atomic') ? { b: 0, rc: 1 } : {}), ...(has('rcu') ? { ptr: 1 } : {}), ...(has('lifetime') ? { w: 0 } : {}), ...(has('kthread') ? { z: 0 } : {}) },
    ...(shape.locks.includes('local_lock') || has('migrate') ? { percpu: { pcx: 0 } } : {}),
    waitqueues: { wq: {} },
    functions: {
      ...(shape.tasklet ? { tl_fn: withVector(tasklet) } : {}),
      ...(shape.timer ? { tm_fn: withVector(timer) } : {}),
      ...(shape.work ? { wk_fn: withVector(work) } : {}),
      ...(has('sock') ? { sk_rcv: [inc('x'), inc('y'), wake_up('wq')] } : {}),
      ...(has('atomic') ? { rc_release: [inc('x')] } : {}),
      ...(has('napi') ? { nap_poll: [...withVector(poll), napi_complete_done('nap', 1)] } : {}),
      ...(has('irq_work') ? { iw_fn: withVector(irqWork) } : {}),
    },
    ...(shape.tasklet ? { tasklets: { tl: { func: 'tl_fn' } } } : {}),
    ...(shape.timer ? { timers: { tm: { func: 'tm_fn' } } } : {}),
    ...(shape.timer || has('migrate') ? { options: { ...(shape.timer ? { ticks: 1 } : {}), ...(has('migrate') ? { preempt: 'full' as const } : {}) } } : {}),
    ...(shape.work ? { works: { wk: { func: 'wk_fn' } } } : {}),
    ...(has('sock') ? { socks: { [SK]: { backlog: 2, backlog_rcv: 'sk_rcv' } } } : {}),
    ...(has('seqcount') ? { seqcounts: { sq: {} } } : {}),
    ...(has('napi') ? { napis: { nap: { poll: 'nap_poll', weight: 2 } } } : {}),
    ...(has('irq_work') ? { irq_works: { iw: { func: 'iw_fn' } } } : {}),
    ...(has('lifetime') ? { structs: { obj: { members: ['w'], allocated: false } } } : {}),
    ...(shape.softirq && needs('raise_softirq') ? { softirqs: { [vector]: withVector(softirq) } } : {}),
    tasks: [
      ...tasks.map(([cpu, body], i) => ({
        name: `t${i}`, cpu, body: withVector(i === 0 ? first(body) : body),
        // The first task may be moved between CPUs while it is preempted.
        ...(i === 0 && has('migrate') ? { allowed: [...Array(shape.cpus).keys()] } : {}),
      })),
      // A kthread that works until it is told to stop (or twice).
      ...(has('kthread') ? [{
        name: 'kt', cpu: shape.kthreadCpu, start: 'kthread_run' as const,
        body: [while_(and(not(kthread_should_stop()), lt(v('z'), 2)), [inc('z'), ...withVector(kthread)], { bound: 2 })],
      }] : []),
    ],
    irqs: irqs.map(([all, cpu, budget, handler], i) => ({ name: `irq${i}`, ...(all ? {} : { cpus: [cpu] }), budget, handler: withVector(handler) })),
    ...(invariant ? { invariants: [invariant] } : {}),
  });
}).filter((d) => {
  // raise_softirq needs a handler; keep designs that name only what they declare.
  const text = JSON.stringify(d);
  return !text.includes('"raise_softirq"') || d.softirqs !== undefined;
});

/** A random small design (see the file comment). */
export const randomDesign: fc.Arbitrary<Design> = smallDesigns(['spinlock', 'spinlock', 'rwlock', 'mutex', 'rw_semaphore', 'local_lock'], EXTRAS);

/**
 * A random small design on PREEMPT_RT (profile 6.12-rt): of the locks and
 * extras kdefer models there (no local_lock, socket, RCU, seqcount, NAPI or
 * irq_work), its interrupt lines IRQF_NO_THREAD (kdefer does not model
 * forced threading).
 */
export const randomRtDesign: fc.Arbitrary<Design> = smallDesigns(['spinlock', 'spinlock', 'rwlock', 'mutex', 'rw_semaphore'], ['atomic', 'kthread', 'lifetime', 'migrate'])
  .map((d) => ({ ...d, profile: '6.12-rt' as const, irqs: (d.irqs ?? []).map((line) => ({ ...line, flags: ['NO_THREAD' as const] })) }));

// ------------------------------------------------------------ sparse designs

/** A block of a sparse design: its statements, given the private variable it records an observation in. */
type Observed = (obs: string) => Stmt[];

/**
 * The blocks of a sparse design for mechanism `e`, for a context of kind
 * `where`: each touches a few items of the mechanism and records what it
 * saw in its own variable, so that the order of two contexts' blocks shows
 * in the end state.
 */
function sparseBlocks(e: Extra, where: Where): Observed[] {
  const seen = (x: Stmt | readonly Stmt[]) => (obs: string): Stmt[] => [...(Array.isArray(x) ? x : [x]) as Stmt[], assign(obs, r('ret'))];
  switch (e) {
    case 'sock':
      return where === 'task'
        ? [
          (o) => [lock_sock(SK), assign(o, v('x')), inc('x'), release_sock(SK)],
          (o) => [lock_sock(SK), inc('x'), spin_lock_bh(SLOCK), __release_sock(SK), sock_release_ownership(SK), assign(o, v('y')), spin_unlock_bh(SLOCK)],
          (o) => [spin_lock_bh(SLOCK), sock_owned_by_user(SK, 'ret'), assign(o, r('ret')), spin_unlock_bh(SLOCK)],
          seen(sock_owned_by_user_nocheck(SK, 'ret')),
          // A spurious wake-up of lock_sock's sleepers (they re-check the owner), and a look at the backlog.
          (o) => [wake_up(`${SK}->sk_lock.wq`), assign(o, v('y'))],
          (o) => [assign(o, queue_len(`${SK}->sk_backlog`))],
          // A segment backlogged from process context under slock (nobody owns the socket: it waits for the next owner).
          (o) => [spin_lock_bh(SLOCK), sk_add_backlog(SK, 1, 1, 'ret'), spin_unlock_bh(SLOCK), assign(o, r('ret'))],
        ]
        : [(o) => [bh_lock_sock(SK), sock_owned_by_user(SK, 'ret'), assign(o, r('ret')), if_(r('ret'), [sk_add_backlog(SK, 1, 1)], [inc('y')]), bh_unlock_sock(SK)]];
    case 'atomic':
      return [
        (o) => [atomic_inc('x'), assign(o, v('y'))],
        seen(atomic_cmpxchg('x', 0, 5, 'ret')),
        seen(test_and_set_bit(0, 'b', 'ret')),
        seen(test_bit(0, 'b', 'ret')),
        (o) => [clear_bit(0, 'b'), assign(o, v('x'))],
        seen([refcount_inc_not_zero('rc', 'ret'), refcount_dec('rc')]),
        seen(atomic_dec_and_test('y', 'ret')),
      ];
    case 'rcu':
      return [
        (o) => [rcu_read_lock(), rcu_dereference('ret', 'ptr'), assign(o, r('ret')), rcu_read_unlock()],
        (o) => [inc('x'), rcu_read_lock(), inc('x'), assign(o, v('y')), rcu_read_unlock()],
        (o) => [rcu_assign_pointer('ptr', add(v('x'), 2)), assign(o, v('x'))],
        ...(where === 'task' ? [
          (o: string) => [rcu_read_lock_bh(), rcu_dereference_bh('ret', 'ptr'), assign(o, r('ret')), rcu_read_unlock_bh()],
          // A softirq can run between the two increments only if it came before the bh section.
          (o: string) => [inc('x'), rcu_read_lock_bh(), inc('x'), assign(o, v('y')), rcu_read_unlock_bh()],
        ] : []),
      ];
    case 'seqcount':
      return [
        (o) => [preempt_disable(), write_seqcount_begin('sq'), inc('x'), assign(o, v('y')), write_seqcount_end('sq'), preempt_enable()],
        (o) => [read_seqcount_begin('sq', 'ret'), load('t', v('x')), assign(o, read_seqcount_retry('sq', r('ret')))],
      ];
    case 'napi':
      // From a task with BH off, as the kernel's callers do (bare, it would be B15, a lost softirq).
      return where === 'task' ? [
        (o) => [local_bh_disable(), napi_schedule('nap', 'ret'), local_bh_enable(), assign(o, r('ret'))],
        (o) => [local_bh_disable(), napi_schedule('nap2', 'ret'), local_bh_enable(), assign(o, r('ret'))],
        (o) => [napi_disable('nap'), assign(o, v('y')), napi_enable('nap')],
      ] : [
        seen(napi_schedule('nap', 'ret')), seen(napi_schedule('nap2', 'ret')),
      ];
    case 'irq_work':
      return [seen(irq_work_queue('iw', 'ret')), ...(where === 'task' ? [(o: string) => [irq_work_sync('iw'), assign(o, v('y'))]] : [])];
    case 'kthread':
      return [(o) => [assign(o, v('z'))]];
    case 'lifetime':
      return [(o) => [inc('w'), assign(o, v('x'))], (o) => [assign(o, v('x')), kfree('obj')]];
    case 'migrate':
      return [(o) => [this_cpu_inc('pcx'), assign(o, smp_processor_id())], (o) => [assign(o, this_cpu_read('pcx'))]];
  }
}

/** Blocks on a sparse design's locks, by kind. */
function sparseLockBlocks(kind: LockKind, l: string, where: Where): Observed[] {
  switch (kind) {
    // g is touched only under L: the lockset analysis may take it as protected by L.
    case 'rw_semaphore':
      return where !== 'task' ? [] : [
        (o) => [down_read(l), assign(o, v('x')), up_read(l)],
        (o) => [down_write(l), inc('g'), assign(o, v('g')), up_write(l)],
        (o) => [assign(o, 9), if_(down_read_trylock(l), [assign(o, v('x')), up_read(l)])],
        (o) => [down_write(l), inc('x'), downgrade_write(l), assign(o, v('y')), up_read(l)],
        () => [init_rwsem(l)],
      ];
    case 'mutex':
      return where !== 'task' ? [] : [
        (o) => [mutex_lock_nested(l, 1), inc('x'), assign(o, v('y')), mutex_unlock(l)],
        (o) => [mutex_lock_nested(l, 1), inc('g'), assign(o, v('g')), mutex_unlock(l)],
        () => [mutex_init(l)],
      ];
    case 'local_lock':
      return [
        (o) => [local_lock(l), this_cpu_inc('pcx'), assign(o, this_cpu_read('pcx')), local_unlock(l)],
        (o) => [local_lock_irqsave(l, 'f'), assign(o, v('x')), local_unlock_irqrestore(l, 'f')],
        ...(where === 'task' ? [(o: string) => [inc('x'), local_lock_irq(l), inc('x'), assign(o, v('y')), local_unlock_irq(l)], () => [local_lock_init(l)]] : []),
      ];
    default:
      return [(o) => [spin_lock(l), inc('y'), assign(o, v('x')), spin_unlock(l)], (o) => [spin_lock(l), inc('g'), assign(o, v('g')), spin_unlock(l)]];
  }
}

/** What a sparse design is made of. */
interface SparseShape {
  readonly cpus: number;
  readonly lock: LockKind;
  readonly extras: readonly Extra[];
  /** The interrupt line's CPU, or null for none. */
  readonly irq: number | null;
  readonly gfp: Gfp;
  readonly preempt: boolean;
}

interface SparseParts {
  /** Task i runs on cpu i % cpus (a task past the CPUs shares cpu0 with the first, to be preempted by or to preempt). */
  readonly tasks: readonly (readonly Observed[])[];
  readonly handler: readonly Observed[];
  readonly poll: readonly Observed[];
  readonly irqWork: readonly Observed[];
  readonly kthread: readonly Observed[];
  /** A NET_TX softirq the interrupt raises (on its CPU), running these blocks. */
  readonly softirq?: readonly Observed[];
}

/** The blocks a sparse design's context of kind `where` draws from. */
function sparsePool(shape: SparseShape, where: Where): Observed[] {
  return [
    (o) => [inc('x'), assign(o, v('y'))],
    (o) => [assign(o, v('x'))],
    ...sparseLockBlocks(shape.lock, 'L', where),
    ...shape.extras.flatMap((e) => sparseBlocks(e, where)),
  ];
}

/** A sparse design from its shape and blocks (see sparseDesign). */
function sparseOf(shape: SparseShape, parts: SparseParts): Design {
  const has = (e: Extra): boolean => shape.extras.includes(e);
  const obs: string[] = [];
  const fill = (prefix: string, list: readonly Observed[]): Stmt[] => list.flatMap((b, k) => {
    obs.push(`${prefix}_${k}`);
    return b(`${prefix}_${k}`);
  });
  const bodies = parts.tasks.map((list, i) => fill(`o${i}`, list));
  const softirq = parts.softirq && parts.softirq.length > 0 ? fill('os', parts.softirq) : null;
  const irqBody = [...(softirq ? [raise_softirq('NET_TX')] : []), ...fill('oi', parts.handler)];
  const functions: Record<string, Stmt[]> = {
    ...(has('sock') ? { sk_rcv: [inc('y')] } : {}),
    ...(has('napi') ? { nap_poll: [...fill('on', parts.poll), napi_complete_done('nap', 1)], nap2_poll: [inc('y'), napi_complete_done('nap2', 1)] } : {}),
    ...(has('irq_work') ? { iw_fn: fill('ow', parts.irqWork) } : {}),
  };
  // The kthread works once unless stopped first, then waits to be stopped (exiting first, its kthread_stop would touch a freed task).
  const ktBody = has('kthread') ? [
    while_(and(not(kthread_should_stop()), lt(v('z'), 1)), [inc('z'), ...fill('ok', parts.kthread)], { bound: 1 }),
    wait_event('kwq', kthread_should_stop()),
  ] : [];
  const first = [
    ...(has('lifetime') ? [kmalloc('obj', shape.gfp)] : []),
    ...(has('kthread') ? [kthread_run('kt')] : []),
    ...bodies[0]!,
    ...(has('kthread') ? [kthread_stop('kt')] : []),
  ];
  const migrate = has('migrate');
  return defineDesign({
    name: 'sparse',
    cpus: shape.cpus,
    locks: { L: shape.lock },
    vars: {
      x: 0, y: 0, g: 0, ...(has('atomic') ? { b: 0, rc: 1 } : {}), ...(has('rcu') ? { ptr: 1 } : {}), ...(has('lifetime') ? { w: 0 } : {}),
      ...(has('kthread') ? { z: 0 } : {}), ...Object.fromEntries(obs.map((o) => [o, 0])),
    },
    ...(shape.lock === 'local_lock' || migrate ? { percpu: { pcx: 0 } } : {}),
    ...(has('kthread') ? { waitqueues: { kwq: {} } } : {}),
    ...(Object.keys(functions).length > 0 ? { functions } : {}),
    ...(migrate || shape.preempt ? { options: { preempt: 'full' as const } } : {}),
    ...(has('sock') ? { socks: { [SK]: { backlog: 2, backlog_rcv: 'sk_rcv' } } } : {}),
    ...(has('seqcount') ? { seqcounts: { sq: {} } } : {}),
    ...(has('napi') ? { napis: { nap: { poll: 'nap_poll', weight: 2 }, nap2: { poll: 'nap2_poll', weight: 2 } } } : {}),
    ...(has('irq_work') ? { irq_works: { iw: { func: 'iw_fn' } } } : {}),
    ...(has('lifetime') ? { structs: { obj: { members: ['w'], allocated: false } } } : {}),
    ...(softirq ? { softirqs: { NET_TX: softirq } } : {}),
    tasks: [
      ...bodies.map((body, i) => ({
        name: `t${i}`, cpu: i % shape.cpus, body: i === 0 ? first : body,
        ...(i === 0 && migrate ? { allowed: [...Array(shape.cpus).keys()] } : {}),
      })),
      ...(has('kthread') ? [{ name: 'kt', cpu: shape.cpus - 1, start: 'kthread_run' as const, body: ktBody }] : []),
    ],
    irqs: shape.irq === null ? [] : [{ name: 'irq', cpus: [shape.irq % shape.cpus], budget: 1, handler: irqBody }],
  });
}

/**
 * A random sparse design: 2–3 CPUs, one task each (and maybe a second on
 * cpu0, to be preempted by or to preempt), maybe an interrupt line
 * with one block, one or two of the mechanisms and a lock of the late
 * kinds; few shared items, so that the partial-order reduction prunes a
 * lot, and a footprint that misses an item prunes an order that shows in
 * the end state (each block records what it saw in its own variable).
 */
export const sparseDesign: fc.Arbitrary<Design> = fc.record({
  cpus: fc.constantFrom(2, 2, 3),
  lock: fc.constantFrom<LockKind>('rw_semaphore', 'mutex', 'local_lock', 'spinlock'),
  extras: fc.subarray([...EXTRAS], { minLength: 1, maxLength: 2 }),
  irq: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 2 }),
  gfp: fc.constantFrom<Gfp>('GFP_KERNEL', 'GFP_ATOMIC'),
  preempt: fc.boolean(),
  /** A second task on cpu0, which a preemption may run in the middle of the first. */
  second: fc.constantFrom(false, false, true),
}).map((shape) => ({
  ...shape,
  // A migrating task under CONFIG_PREEMPT multiplies the schedules: on 2 CPUs, alone on its CPU.
  ...(shape.extras.includes('migrate') ? { cpus: 2, second: false } : {}),
})).chain((shape) => {
  // A *_init (a block that records nothing) is rarer: it frees the lock under whoever holds it.
  const blocks = (where: Where, max: number) => {
    const all = sparsePool(shape, where);
    const inits = all.filter((b) => b.length === 0);
    const others = all.filter((b) => b.length !== 0);
    const one = inits.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...others), weight: 12 }, { arbitrary: fc.constantFrom(...inits), weight: 1 }) : fc.constantFrom(...others);
    return fc.array(one, { minLength: 1, maxLength: max });
  };
  return fc.record({
    shape: fc.constant(shape),
    tasks: fc.array(blocks('task', 2), { minLength: shape.cpus + (shape.second ? 1 : 0), maxLength: shape.cpus + (shape.second ? 1 : 0) }),
    handler: blocks('atomic', 1),
    poll: blocks('atomic', 1),
    irqWork: blocks('atomic', 1),
    kthread: blocks('task', 1),
  });
}).map(({ shape, ...parts }) => sparseOf(shape, parts));

/**
 * Every pair of blocks of one mechanism (with the two plain blocks), each
 * after a step of its own: one in a task on cpu0 and one in a task on cpu1; or
 * one in a task and one in an interrupt on its CPU, or in a softirq that
 * interrupt raises; or, under
 * CONFIG_PREEMPT, two tasks on cpu0. The plainest interleavings of each
 * operation with each other one, in every place they meet.
 */
export function sparsePairs(): Design[] {
  const out: Design[] = [];
  const kinds: { lock: LockKind; extras: Extra[] }[] = [
    ...(['rw_semaphore', 'mutex', 'local_lock', 'spinlock'] as const).map((lock) => ({ lock, extras: [] })),
    ...EXTRAS.map((e) => ({ lock: 'spinlock' as const, extras: [e] })),
  ];
  // A step before the block that touches nothing the other context does (its own record), so that a
  // private first step of the block would be fused into it.
  const lead = (b: Observed): Observed => (o) => [assign(o, 1), ...b(o)];
  for (const { lock, extras } of kinds) {
    const base: SparseShape = { cpus: 2, lock, extras, irq: null, gfp: 'GFP_ATOMIC', preempt: false };
    // The plain blocks, and the lock's own (with no extra) or the extra's.
    const own = (where: Where): Observed[] => [
      (o) => [inc('x'), assign(o, v('y'))],
      (o) => [assign(o, v('x'))],
      ...(extras.length === 0 ? sparseLockBlocks(lock, 'L', where) : sparseBlocks(extras[0]!, where)),
    ];
    const tasks = own('task');
    const atomic = own('atomic');
    for (let i = 0; i < tasks.length; i++) {
      for (let j = i; j < tasks.length; j++) {
        out.push(sparseOf(base, { tasks: [[lead(tasks[i]!)], [lead(tasks[j]!)]], handler: [], poll: [], irqWork: [], kthread: [] }));
        if (extras.includes('migrate')) continue;
        out.push(sparseOf({ ...base, cpus: 1, preempt: true }, { tasks: [[lead(tasks[i]!)], [lead(tasks[j]!)]], handler: [], poll: [], irqWork: [], kthread: [] }));
      }
      for (const h of atomic) {
        out.push(sparseOf({ ...base, irq: 0 }, { tasks: [[lead(tasks[i]!)]], handler: [h], poll: [], irqWork: [], kthread: [] }));
        // The block in a softirq the interrupt raises: it runs at irq_exit, or at the task's next local_bh_enable.
        out.push(sparseOf({ ...base, irq: 0 }, { tasks: [[lead(tasks[i]!)]], handler: [], poll: [], irqWork: [], kthread: [], softirq: [h] }));
      }
    }
  }
  return out;
}
