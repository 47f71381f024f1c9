/**
 * model/kernel/spinlock.ts: spinlock_t and rwlock_t, every variant's
 * irq/bh/preempt effect (include/linux/spinlock_api_smp.h,
 * include/linux/rwlock_api_smp.h; shared/kernel-semantics.md §4.1–4.2),
 * trylocks as branches, lock misuse, and the queued-rwlock reader rules
 * (kernel/locking/qrwlock.c).
 */
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, check, dec, defineDesign, if_, inc, ne, repeat, v, local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable,
  local_irq_restore, local_irq_save, __raise_softirq_irqoff, read_lock, read_lock_bh, read_lock_irq,
  read_lock_irqsave, read_trylock, read_unlock, read_unlock_bh, read_unlock_irq, read_unlock_irqrestore,
  spin_lock, spin_lock_bh, spin_lock_irq, spin_lock_irqsave, spin_trylock, spin_trylock_bh, spin_trylock_irq,
  spin_trylock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irq, spin_unlock_irqrestore, write_lock,
  write_lock_bh, write_lock_irq, write_lock_irqsave, write_trylock, write_unlock, write_unlock_bh,
  write_unlock_irq, write_unlock_irqrestore, type Design, type Stmt,
} from '../../model/index.ts';
import {
  C_BH, C_DEPTH, C_IRQS_OFF, C_PENDING, C_PREEMPT, C_SERVING, FrameKind, L_OWNER, L_QHOLDER, L_QWRITER, L_READERS,
} from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

const NET_RX_BIT = 1 << 3;

/** One task `t` on one CPU running `body`, with a spinlock L and an rwlock R. */
const oneTask = (body: readonly Stmt[], extra: Partial<Design> = {}): Design =>
  defineDesign({ name: 'one-task', cpus: 1, locks: { L: 'spinlock', R: 'rwlock' }, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body }], ...extra });

type Mode = 'spin' | 'read' | 'write';
type Flavour = 'plain' | 'irq' | 'irqsave' | 'bh';
const VARIANTS: Record<Mode, Record<Flavour, readonly [(l: string) => Stmt, (l: string) => Stmt]>> = {
  spin: {
    plain: [spin_lock, spin_unlock],
    irq: [spin_lock_irq, spin_unlock_irq],
    irqsave: [(l) => spin_lock_irqsave(l, 'flags'), (l) => spin_unlock_irqrestore(l, 'flags')],
    bh: [spin_lock_bh, spin_unlock_bh],
  },
  read: {
    plain: [read_lock, read_unlock],
    irq: [read_lock_irq, read_unlock_irq],
    irqsave: [(l) => read_lock_irqsave(l, 'flags'), (l) => read_unlock_irqrestore(l, 'flags')],
    bh: [read_lock_bh, read_unlock_bh],
  },
  write: {
    plain: [write_lock, write_unlock],
    irq: [write_lock_irq, write_unlock_irq],
    irqsave: [(l) => write_lock_irqsave(l, 'flags'), (l) => write_unlock_irqrestore(l, 'flags')],
    bh: [write_lock_bh, write_unlock_bh],
  },
};

/** §4.1 table: irqs-off after the lock and after the unlock, given irqs-off before. */
const IRQS_AFTER_LOCK: Record<Flavour, (before: number) => number> = {
  plain: (b) => b, irq: () => 1, irqsave: () => 1, bh: (b) => b,
};
const IRQS_AFTER_UNLOCK: Record<Flavour, (before: number) => number> = {
  // spin_unlock_irq: local_irq_enable() unconditionally; _irqrestore: the saved flags.
  plain: (b) => b, irq: () => 0, irqsave: (b) => b, bh: (b) => b,
};

describe('each lock variant has its exact irq/bh/preempt effect (§4.1)', () => {
  for (const mode of ['spin', 'read', 'write'] as const) {
    const lockName = mode === 'spin' ? 'L' : 'R';
    for (const flavour of ['plain', 'irq', 'irqsave', 'bh'] as const) {
      // An _unlock_bh with irqs off is an error (tested below), so _bh runs with irqs on only.
      for (const irqsBefore of flavour === 'bh' ? [0] : [0, 1]) {
        const [lock, unlock] = VARIANTS[mode][flavour];
        it(`${lock(lockName).op} / ${unlock(lockName).op} with irqs ${irqsBefore ? 'off' : 'on'}`, () => {
          const body = [...(irqsBefore ? [local_irq_disable()] : []), lock(lockName), unlock(lockName)];
          const s = new Schedule(oneTask(body));
          if (irqsBefore) s.take('local_irq_disable');
          if (flavour === 'bh') {
            // __raw_spin_lock_bh: __local_bh_disable_ip(SOFTIRQ_LOCK_OFFSET) is its own step, before the acquisition.
            s.take('local_bh_disable');
            expect([s.cpu(0, C_BH), s.cpu(0, C_PREEMPT)]).toEqual([1, 1]);
            s.take('acquires');
          } else {
            s.take(lock(lockName).op);
          }
          expect(s.cpu(0, C_IRQS_OFF)).toBe(IRQS_AFTER_LOCK[flavour](irqsBefore));
          expect(s.cpu(0, C_BH)).toBe(flavour === 'bh' ? 1 : 0);
          expect(s.cpu(0, C_PREEMPT)).toBe(1);
          if (mode === 'read') expect([s.lock('R', L_OWNER), s.lock('R', L_READERS)]).toEqual([0, 1]);
          else expect(s.lock(lockName, L_OWNER)).toBe(1); // task 0 is context 0, stored +1
          if (flavour === 'irqsave') expect(s.taskReg('t', 'flags')).toBe(irqsBefore);

          s.take(unlock(lockName).op);
          expect(s.violation()).toBeNull();
          expect(s.cpu(0, C_IRQS_OFF)).toBe(IRQS_AFTER_UNLOCK[flavour](irqsBefore));
          expect([s.cpu(0, C_BH), s.cpu(0, C_PREEMPT)]).toEqual([0, 0]);
          expect([s.lock(lockName, L_OWNER), s.lock(lockName, L_READERS)]).toEqual([0, 0]);
        });
      }
    }
  }

  it('spin_lock_irq inside local_irq_save leaves irqs on after spin_unlock_irq, and local_irq_restore turns them off again', () => {
    const s = new Schedule(oneTask([local_irq_save('f'), spin_lock_irq('L'), spin_unlock_irq('L'), local_irq_restore('f')]));
    s.run('local_irq_save', 'spin_lock_irq');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
    s.take('spin_unlock_irq');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0); // premature enable: the B4 hazard
    s.take('local_irq_restore');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0); // f was 0: irqs were on at the save
  });

  it('nested irqsave/irqrestore pairs restore the outer state only at the outer restore', () => {
    const body = [spin_lock_irqsave('L', 'f1'), write_lock_irqsave('R', 'f2'), write_unlock_irqrestore('R', 'f2'), spin_unlock_irqrestore('L', 'f1')];
    const s = new Schedule(oneTask(body));
    s.run('spin_lock_irqsave', 'write_lock_irqsave');
    expect([s.taskReg('t', 'f1'), s.taskReg('t', 'f2'), s.cpu(0, C_PREEMPT)]).toEqual([0, 1, 2]);
    s.take('write_unlock_irqrestore');
    expect([s.cpu(0, C_IRQS_OFF), s.cpu(0, C_PREEMPT)]).toEqual([1, 1]);
    s.take('spin_unlock_irqrestore');
    expect([s.cpu(0, C_IRQS_OFF), s.cpu(0, C_PREEMPT)]).toEqual([0, 0]);
  });

  it('spin_unlock_bh is a softirq run point: pending work runs there, in the caller\'s context', () => {
    // The irq raises NET_RX while the task holds the lock with bh off, so irq_exit cannot run it.
    const d = defineDesign({
      name: 'unlock-bh-runs', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [spin_lock_bh('L'), spin_unlock_bh('L'), inc('x')] }],
      irqs: [{ name: 'eth0', handler: [{ op: 'raise_softirq', vec: 'NET_RX' }] }],
      softirqs: { NET_RX: [inc('x')] },
    });
    const s = new Schedule(d).run('local_bh_disable', 'acquires', 'eth0 interrupt arrives', 'raise_softirq', '[hardirq eth0]: return');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect(s.cpu(0, C_PENDING)).toBe(NET_RX_BIT);
    s.take('spin_unlock_bh');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    expect([s.cpu(0, C_SERVING), s.cpu(0, C_BH), s.cpu(0, C_PREEMPT), s.cpu(0, C_PENDING)]).toEqual([1, 0, 0, 0]);
    s.run('run NET_RX handler', '[softirq NET_RX]: x++', 'return', 'batch done');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect(s.topName(0)).toBe('task t');
    expect(s.variable('x')).toBe(1);
  });

  it('an interrupt between spin_lock_bh\'s bh-disable and its acquisition sees bh off and runs no softirq at irq_exit', () => {
    const d = defineDesign({
      name: 'lock-bh-gap', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [spin_lock_bh('L'), spin_unlock_bh('L')] }],
      irqs: [{ name: 'eth0', handler: [{ op: 'raise_softirq', vec: 'NET_RX' }] }],
      softirqs: { NET_RX: [inc('x')] },
    });
    const s = new Schedule(d).run('local_bh_disable', 'eth0 interrupt arrives', 'raise_softirq', 'return');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect(s.cpu(0, C_PENDING)).toBe(NET_RX_BIT);
    expect(s.lock('L')).toBe(0);
  });
});

describe('trylocks are branches: the same prologue, then acquire and 1, or undo and 0; never spin', () => {
  /** cpu0's task `holder` takes L (and write-locks R) and keeps them; cpu1's task `t` runs `body`. */
  const contended = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
    name: 'contended', cpus: 2, locks: { L: 'spinlock', R: 'rwlock' }, vars: { x: 0, ok: 0 },
    tasks: [
      { name: 'holder', cpu: 0, body: [spin_lock('L'), write_lock('R'), write_unlock('R'), spin_unlock('L')] },
      { name: 't', cpu: 1, body },
    ],
    ...extra,
  });
  const branch = (cond: Parameters<typeof if_>[0], unlock: Stmt): Stmt[] =>
    [if_(cond, [{ op: 'assign', var: 'ok', value: 1 }, unlock], [{ op: 'assign', var: 'ok', value: 2 }])];

  it('spin_trylock success: acquires, preempt_count +1, then branch', () => {
    const s = new Schedule(contended(branch(spin_trylock('L'), spin_unlock('L'))));
    s.take('spin_trylock(&L) → 1 (acquired)');
    expect([s.cpu(1, C_PREEMPT), s.lock('L')]).toEqual([1, 2]);
    s.run('if (spin_trylock(&L)) → true', 'WRITE_ONCE(ok, 1)');
    expect(s.variable('ok')).toBe(1);
  });

  it('spin_trylock failure: preempt_count back to 0, the else branch runs', () => {
    const s = new Schedule(contended(branch(spin_trylock('L'), spin_unlock('L'))));
    s.take('[task holder]: spin_lock(&L)').take('spin_trylock(&L) → 0 (busy)');
    expect([s.cpu(1, C_PREEMPT), s.cpu(1, C_IRQS_OFF), s.lock('L')]).toEqual([0, 0, 1]);
    s.run('[task t]: if (spin_trylock(&L)) → false', 'WRITE_ONCE(ok, 2)');
    expect(s.variable('ok')).toBe(2);
  });

  it('spin_trylock_irq: success leaves irqs off; failure enables them unconditionally', () => {
    const ok = new Schedule(contended(branch(spin_trylock_irq('L'), spin_unlock_irq('L'))));
    ok.take('spin_trylock_irq(&L) → 1');
    expect([ok.cpu(1, C_IRQS_OFF), ok.cpu(1, C_PREEMPT)]).toEqual([1, 1]);
    // include/linux/spinlock.h spin_trylock_irq: local_irq_disable(); … : ({ local_irq_enable(); 0; })
    const busy = new Schedule(contended([local_irq_disable(), ...branch(spin_trylock_irq('L'), spin_unlock_irq('L'))]));
    busy.run('[task holder]: spin_lock', 'local_irq_disable', 'spin_trylock_irq(&L) → 0');
    expect([busy.cpu(1, C_IRQS_OFF), busy.cpu(1, C_PREEMPT)]).toEqual([0, 0]);
  });

  it('spin_trylock_irqsave: failure restores the saved irq state', () => {
    const busy = new Schedule(contended([local_irq_disable(), ...branch(spin_trylock_irqsave('L', 'f'), spin_unlock_irqrestore('L', 'f')), local_irq_enable()]));
    busy.run('[task holder]: spin_lock', 'local_irq_disable', 'spin_trylock_irqsave(&L, f) → 0');
    expect([busy.cpu(1, C_IRQS_OFF), busy.cpu(1, C_PREEMPT), busy.taskReg('t', 'f')]).toEqual([1, 0, 1]);
    const ok = new Schedule(contended(branch(spin_trylock_irqsave('L', 'f'), spin_unlock_irqrestore('L', 'f'))));
    ok.take('spin_trylock_irqsave(&L, f) → 1');
    expect([ok.cpu(1, C_IRQS_OFF), ok.cpu(1, C_PREEMPT), ok.taskReg('t', 'f')]).toEqual([1, 1, 0]);
  });

  /** Pending NET_RX on cpu1 with bh on: __raise_softirq_irqoff under local_irq_save never wakes ksoftirqd. */
  const pendingThen = (try_: Stmt[]): Stmt[] => [local_irq_save('f'), __raise_softirq_irqoff('NET_RX'), local_irq_restore('f'), ...try_];
  const withNetRx: Partial<Design> = { softirqs: { NET_RX: [inc('x')] } };

  it('spin_trylock_bh failure path is a softirq run point (__raw_spin_trylock_bh → __local_bh_enable_ip)', () => {
    const s = new Schedule(contended(pendingThen(branch(spin_trylock_bh('L'), spin_unlock_bh('L'))), withNetRx));
    s.run('[task holder]: spin_lock', 'local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore');
    expect(s.cpu(1, C_PENDING)).toBe(NET_RX_BIT);
    s.take('spin_trylock_bh(&L) → 0');
    expect(s.frames(1)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    expect([s.cpu(1, C_SERVING), s.cpu(1, C_BH), s.cpu(1, C_PREEMPT), s.cpu(1, C_PENDING)]).toEqual([1, 0, 0, 0]);
  });

  it('spin_trylock_bh success keeps bh disabled and runs nothing', () => {
    const s = new Schedule(contended(pendingThen(branch(spin_trylock_bh('L'), spin_unlock_bh('L'))), withNetRx));
    s.run('local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'spin_trylock_bh(&L) → 1');
    expect(s.frames(1)).toEqual([FrameKind.Task]);
    expect([s.cpu(1, C_BH), s.cpu(1, C_PREEMPT), s.cpu(1, C_PENDING)]).toEqual([1, 1, NET_RX_BIT]);
  });

  it('plain spin_trylock failure is not a run point', () => {
    const s = new Schedule(contended(pendingThen(branch(spin_trylock('L'), spin_unlock('L'))), withNetRx));
    s.run('[task holder]: spin_lock', 'local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'spin_trylock(&L) → 0');
    expect(s.frames(1)).toEqual([FrameKind.Task]);
    expect(s.cpu(1, C_PENDING)).toBe(NET_RX_BIT);
  });

  it('read_trylock and write_trylock fail while a writer holds the rwlock and succeed when free', () => {
    const rd = new Schedule(contended(branch(read_trylock('R'), read_unlock('R'))));
    rd.run('[task holder]: spin_lock', '[task holder]: write_lock', 'read_trylock(&R) → 0');
    expect([rd.cpu(1, C_PREEMPT), rd.lock('R', L_READERS)]).toEqual([0, 0]);
    const wr = new Schedule(contended(branch(write_trylock('R'), write_unlock('R'))));
    wr.take('write_trylock(&R) → 1');
    expect(wr.lock('R', L_OWNER)).toBe(2);
  });

  it('a design whose trylock fails can never deadlock on it (exhaustive)', () => {
    const v = check(contended(branch(spin_trylock('L'), spin_unlock('L'))));
    expect(v.status).toBe('verified');
  });
});

describe('lock misuse', () => {
  it('unlocking a spinlock that is not held', () => {
    const v = check(oneTask([spin_unlock('L')]));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('spinlock already unlocked');
    expect(v.violation?.message).toContain('&L');
  });

  it('read_unlock of an rwlock that is not read-held', () => {
    const v = check(oneTask([read_unlock('R')]));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('bad unlock balance detected');
  });

  it('unlocking a spinlock held by another context names the owner', () => {
    const d = defineDesign({
      name: 'unlock-by-other', cpus: 2, locks: { L: 'spinlock' },
      tasks: [{ name: 'a', cpu: 0, body: [spin_lock('L'), spin_unlock('L')] }, { name: 'b', cpu: 1, body: [spin_unlock('L')] }],
    });
    const s = new Schedule(d).run('[task a]: spin_lock', '[task b]: spin_unlock');
    expect(s.violation()).toBe('lock-misuse');
    expect(s.message).toContain('wrong owner: held by task a');
    expect(s.message).toContain('task b releasing &L');
  });

  it('an irq handler unlocking the lock its interrupted task holds is misuse', () => {
    const d = defineDesign({
      name: 'irq-unlocks-task-lock', cpus: 1, locks: { L: 'spinlock' },
      tasks: [{ name: 'a', cpu: 0, body: [spin_lock('L'), spin_unlock('L')] }],
      irqs: [{ name: 'eth0', handler: [spin_unlock('L')] }],
    });
    const s = new Schedule(d).run('spin_lock', 'eth0 interrupt arrives', '[hardirq eth0]: spin_unlock');
    expect(s.violation()).toBe('lock-misuse');
    expect(s.message).toContain('held by task a');
  });

  // Same-context recursion is one kind for every lock type: deadlock (model/kernel/held-locks.ts).
  const recursion: readonly { name: string; body: readonly Stmt[]; message: string }[] = [
    { name: 'spin_lock twice', body: [spin_lock('L'), spin_lock('L')], message: 'BUG: spinlock recursion on CPU#0, task t\n  task t: spin_lock(&L) while it holds &L: it spins on itself forever' },
    { name: 'spin_lock then spin_lock_irqsave', body: [spin_lock('L'), spin_lock_irqsave('L', 'f')], message: 'BUG: spinlock recursion on CPU#0, task t\n  task t: spin_lock_irqsave(&L) while it holds &L: it spins on itself forever' },
    { name: 'spin_lock_bh twice', body: [spin_lock_bh('L'), spin_lock_bh('L')], message: 'BUG: spinlock recursion on CPU#0, task t\n  task t: spin_lock_bh(&L) while it holds &L: it spins on itself forever' },
    { name: 'write_lock twice', body: [write_lock('R'), write_lock_irq('R')], message: 'BUG: rwlock recursion on CPU#0, task t\n  task t: write_lock_irq(&R) while it holds &R: it spins on itself forever' },
    { name: 'read_lock then write_lock', body: [read_lock('R'), write_lock('R')], message: 'WARNING: possible recursive locking detected\n  task t: write_lock(&R) while it holds &R for read: it spins on itself forever' },
    { name: 'write_lock then read_lock', body: [write_lock('R'), read_lock_bh('R')], message: 'WARNING: possible recursive locking detected\n  task t: read_lock_bh(&R) while it holds &R: it spins on itself forever' },
  ];
  for (const { name, body, message } of recursion) {
    it(`${name} in one context is a deadlock with the kernel's message, found at the second acquisition`, () => {
      const v = check(oneTask(body));
      expect(v.violation?.kind).toBe('deadlock');
      expect(v.violation?.message).toBe(message);
      // The first lock (a _bh one takes two steps), then the second acquisition's first step.
      expect(v.violation?.choices.length).toBe((body[0]!.op.endsWith('_bh') ? 2 : 1) + 1);
    });
  }

  it('read_lock(X); write_lock(X) in one context: the writer waits for its own read hold, and the report says so', () => {
    const body = [read_lock('R'), write_lock('R'), write_unlock('R'), read_unlock('R')];
    for (const flags of [{}, { rwlock: 'reader-biased' as const }]) {
      const v = check(oneTask(body, { flags }));
      expect(v.violation?.kind).toBe('deadlock');
      expect(v.violation?.message).toBe(
        'WARNING: possible recursive locking detected\n' +
        '  task t: write_lock(&R) while it holds &R for read: it spins on itself forever');
      expect(v.violation?.choices).toHaveLength(2);
    }
  });

  it('read recursion is counted exactly for any lock and any depth: the 12th lock, read 20 times, released by the 20th read_unlock', () => {
    const locks = Object.fromEntries([...Array(12).keys()].map((i) => [`L${i}`, i % 2 === 0 ? 'spinlock' : 'rwlock'] as const));
    const d = (reads: number, unlocks: number): Design => oneTask([repeat(reads, [read_lock('L11')]), repeat(unlocks, [read_unlock('L11')])], { locks });
    expect(check(d(20, 20)).status).toBe('verified');
    const leak = check(d(20, 19));
    expect(leak.violation?.kind).toBe('lock-leak');
    expect(leak.violation?.message).toContain('&L11');
    const over = check(d(20, 21));
    expect(over.violation?.kind).toBe('lock-misuse');
    expect(over.violation?.trace.filter((l) => l.includes('read_unlock')).length).toBe(21);
    // A writer on another CPU gets the lock only after the last of the 20 read_unlocks
    // (reader-biased: with qrwlock the 2nd read_lock would queue behind the waiting writer, B17).
    const writer = defineDesign({
      name: 'deep-read-then-writer', cpus: 2, locks, vars: { readers: 0 }, flags: { rwlock: 'reader-biased' },
      tasks: [
        { name: 't', cpu: 0, body: [repeat(20, [read_lock('L11')]), inc('readers'), repeat(19, [read_unlock('L11')]), dec('readers'), read_unlock('L11')] },
        { name: 'w', cpu: 1, body: [write_lock('L11'), BUG_ON(ne(v('readers'), 0)), write_unlock('L11')] },
      ],
    });
    expect(check(writer).status).toBe('verified');
  });

  it('read recursion in one context with no writer is allowed', () => {
    const v = check(oneTask([read_lock('R'), read_lock('R'), read_unlock('R'), read_unlock('R')]));
    expect(v.status).toBe('verified');
  });
});

describe('queued rwlocks (kernel/locking/qrwlock.c)', () => {
  /** cpu0 task reads R (then `again`); cpu1 task writes R. */
  const readerWriter = (again: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
    name: 'reader-writer', cpus: 2, locks: { R: 'rwlock' }, vars: { x: 0 },
    tasks: [
      { name: 'reader', cpu: 0, body: [read_lock('R'), ...again, read_unlock('R')] },
      { name: 'writer', cpu: 1, body: [write_lock('R'), inc('x'), write_unlock('R')] },
    ],
    ...extra,
  });

  it('a writer that finds readers takes the wait lock and sets _QW_WAITING', () => {
    const s = new Schedule(readerWriter([])).run('[task reader]: read_lock', '[task writer]: write_lock');
    expect(s.labels[1]).toContain('takes the qrwlock wait lock and sets _QW_WAITING');
    expect([s.lock('R', L_QHOLDER), s.lock('R', L_QWRITER), s.lock('R', L_READERS)]).toEqual([2, 1, 1]);
    expect(s.can('[task writer]')).toBe(false); // spins until the readers drain
    s.take('[task reader]: read_unlock');
    s.take('[task writer]: write_lock(&R): acquires');
  });

  it('a task-context reader queues behind a waiting writer: recursive read_lock deadlocks (B17)', () => {
    const s = new Schedule(readerWriter([read_lock('R'), read_unlock('R')])).run('[task reader]: read_lock', '[task writer]: write_lock');
    s.take('[task reader]: read_lock(&R)');
    expect(s.labels[2]).toContain('spins');
    expect(s.lock('R', L_READERS)).toBe(1);
    expect(s.can('[task reader]')).toBe(false);
    const v = check(readerWriter([read_lock('R'), read_unlock('R')]));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('queued behind a writer waiting for readers to drain');
  });

  it('a hardirq reader does not queue behind a waiting writer (in_interrupt reader bias)', () => {
    const d = readerWriter([], { irqs: [{ name: 'eth0', cpus: [0], handler: [read_lock('R'), inc('x'), read_unlock('R')] }] });
    const s = new Schedule(d).run('[task reader]: read_lock', '[task writer]: write_lock', 'eth0 interrupt arrives', '[hardirq eth0]: read_lock');
    expect(s.lock('R', L_READERS)).toBe(2);
    expect(s.topName(0)).toBe('hardirq eth0');
    s.take('[hardirq eth0]: x++'); // it got past the read_lock
    expect(check(d).status).toBe('verified');
  });

  it('a softirq reader does not queue behind a waiting writer', () => {
    const d = readerWriter([], {
      irqs: [{ name: 'eth0', cpus: [0], handler: [{ op: 'raise_softirq', vec: 'NET_RX' }] }],
      softirqs: { NET_RX: [read_lock('R'), inc('x'), read_unlock('R')] },
    });
    const s = new Schedule(d).run('[task reader]: read_lock', '[task writer]: write_lock', 'eth0 interrupt arrives', 'raise_softirq', 'return', 'run NET_RX handler', '[softirq NET_RX]: read_lock');
    expect(s.lock('R', L_READERS)).toBe(2);
    expect(check(d).status).toBe('verified');
  });

  it('a task reader with bh disabled is in_interrupt() and does not queue either', () => {
    // queued_read_lock_slowpath tests in_interrupt(), which is true with bh merely disabled.
    const d = defineDesign({
      name: 'read-bh-recursion', cpus: 2, locks: { R: 'rwlock' }, vars: { x: 0 },
      tasks: [
        { name: 'reader', cpu: 0, body: [read_lock_bh('R'), read_lock_bh('R'), read_unlock_bh('R'), read_unlock_bh('R')] },
        { name: 'writer', cpu: 1, body: [write_lock('R'), inc('x'), write_unlock('R')] },
      ],
    });
    expect(check(d).status).toBe('verified');
  });

  it('a hardirq reader still waits while a writer actually holds the lock', () => {
    const d = readerWriter([], { irqs: [{ name: 'eth0', cpus: [0], handler: [read_lock('R'), read_unlock('R')] }], tasks: [
      { name: 'reader', cpu: 0, body: [inc('x')] },
      { name: 'writer', cpu: 1, body: [write_lock('R'), inc('x'), write_unlock('R')] },
    ] });
    const s = new Schedule(d).run('[task writer]: write_lock', 'eth0 interrupt arrives', '[hardirq eth0]: read_lock');
    expect(s.labels[2]).toContain('writer holds it; counted as reader, spins until it unlocks');
    expect(s.can('[hardirq eth0]')).toBe(false);
    s.run('[task writer]: x++', '[task writer]: write_unlock', '[hardirq eth0]: read_lock(&R): acquires');
    expect(s.lock('R', L_READERS)).toBe(1);
  });

  it("with rwlock: 'reader-biased' (before qrwlock, ≈3.16) a task reader never queues: read recursion is safe", () => {
    const d = readerWriter([read_lock('R'), read_unlock('R')], { flags: { rwlock: 'reader-biased' } });
    const s = new Schedule(d).run('[task reader]: read_lock', '[task writer]: write_lock');
    expect(s.lock('R', L_QHOLDER)).toBe(0);
    s.take('[task reader]: read_lock');
    expect(s.lock('R', L_READERS)).toBe(2);
    expect(check(d).status).toBe('verified');
  });
});

describe('a spinner keeps its interrupt state', () => {
  const spinner = (lock: Stmt, unlock: Stmt): Design => defineDesign({
    name: 'spinner', cpus: 2, locks: { L: 'spinlock' }, vars: { x: 0 },
    tasks: [
      { name: 'holder', cpu: 1, body: [spin_lock('L'), inc('x'), spin_unlock('L')] },
      { name: 'spinner', cpu: 0, body: [lock, inc('x'), unlock] },
    ],
    irqs: [{ name: 'eth0', cpus: [0], handler: [spin_lock('L'), inc('x'), spin_unlock('L')] }],
  });

  it('a spin_lock spinner with irqs on can be interrupted, and the handler may spin too', () => {
    const s = new Schedule(spinner(spin_lock('L'), spin_unlock('L'))).run('[task holder]: spin_lock', '[task spinner]: spin_lock');
    expect(s.labels[1]).toContain('is busy, spins');
    expect(s.can('[task spinner]')).toBe(false);
    s.take('cpu0: eth0 interrupt arrives');
    expect(s.cpu(0, C_DEPTH)).toBe(1);
    s.take('[hardirq eth0]: spin_lock(&L): &L is busy, spins');
    expect(s.can('[hardirq eth0]')).toBe(false);
    s.run('[task holder]: x++', '[task holder]: spin_unlock');
    // The top frame takes the lock first: the task below cannot run until the handler returns.
    s.take('[hardirq eth0]: spin_lock(&L): acquires');
  });

  it('a spin_lock_irq spinner cannot be interrupted', () => {
    const s = new Schedule(spinner(spin_lock_irq('L'), spin_unlock_irq('L'))).run('[task holder]: spin_lock', '[task spinner]: spin_lock_irq');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
    expect(s.can('eth0 interrupt arrives')).toBe(false);
  });

  it('a spin_lock_irqsave spinner cannot be interrupted', () => {
    const s = new Schedule(spinner(spin_lock_irqsave('L', 'f'), spin_unlock_irqrestore('L', 'f'))).run('[task holder]: spin_lock', '[task spinner]: spin_lock_irqsave');
    expect(s.can('eth0 interrupt arrives')).toBe(false);
  });

  it('spin_lock_bh spinners can be interrupted (bh off does not mask hardirqs)', () => {
    const s = new Schedule(spinner(spin_lock_bh('L'), spin_unlock_bh('L'))).run('[task holder]: spin_lock', '[task spinner]: spin_lock_bh(&L): local_bh_disable');
    expect([s.cpu(0, C_BH), s.cpu(0, C_IRQS_OFF)]).toEqual([1, 0]);
    expect(s.can('[task spinner]')).toBe(false); // spinning
    expect(s.can('cpu0: eth0 interrupt arrives')).toBe(true);
  });

  it('spinning in a bh-disabled section does not block an irq\'s softirq forever: it runs at spin_unlock_bh', () => {
    // Whole design: the irq raises NET_RX while the task is in its spin_lock_bh section.
    const d = defineDesign({
      name: 'bh-section', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [local_bh_disable(), spin_lock('L'), inc('x'), spin_unlock('L'), local_bh_enable()] }],
      irqs: [{ name: 'eth0', handler: [{ op: 'raise_softirq', vec: 'NET_RX' }] }],
      softirqs: { NET_RX: [spin_lock('L'), inc('x'), spin_unlock('L')] },
    });
    expect(check(d).status).toBe('verified');
  });
});
