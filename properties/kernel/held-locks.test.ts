/**
 * model/kernel/held-locks.ts and the lock declarations: the held-lock
 * record (subclasses of the *_nested forms), initialising a lock (held by
 * the current task: lockdep's "held lock freed!"), and lock classes
 * declared in `locks` (several instances of one lockdep class).
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, inc, mutex_lock, mutex_lock_nested, mutex_unlock, raw_spin_lock_nested, raw_spin_unlock,
  SINGLE_DEPTH_NESTING, spin_lock, spin_lock_init, spin_lock_irqsave_nested, spin_lock_nested, spin_unlock,
  spin_unlock_irqrestore, write_lock_nested, write_unlock, type Design, type Stmt,
} from '../../model/index.ts';
import { C_IRQS_OFF, L_OWNER, X_HELD, X_SUBCLASS } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

const oneTask = (body: readonly Stmt[], locks: Design['locks'] = { A: 'spinlock', B: 'spinlock', M: 'mutex', R: 'rwlock' }): Design =>
  defineDesign({ name: 'held', cpus: 1, locks, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body }] });

describe('the *_nested forms are the plain lock with a lockdep subclass', () => {
  it('spin_lock_nested records the subclass while the lock is held, and forgets it at the unlock', () => {
    const s = new Schedule(oneTask([spin_lock('A'), spin_lock_nested('B', SINGLE_DEPTH_NESTING), spin_unlock('B'), spin_unlock('A')]));
    s.run('spin_lock(&A)', 'spin_lock_nested(&B, 1)');
    expect(s.s[s.m.ctxOff(0) + X_SUBCLASS]).toBe(1 << 4); // lock B is id 1
    expect(s.s[s.m.ctxOff(0) + X_HELD]).toBe(0b11);
    s.take('spin_unlock(&B)');
    expect([s.s[s.m.ctxOff(0) + X_SUBCLASS], s.s[s.m.ctxOff(0) + X_HELD]]).toEqual([0, 0b01]);
  });

  it('spin_lock_irqsave_nested saves the flags and disables irqs like spin_lock_irqsave', () => {
    const s = new Schedule(oneTask([spin_lock_irqsave_nested('A', 'f', 2), spin_unlock_irqrestore('A', 'f')]));
    s.take('spin_lock_irqsave_nested(&A, f, 2)');
    expect([s.cpu(0, C_IRQS_OFF), s.taskReg('t', 'f'), s.lock('A', L_OWNER), s.s[s.m.ctxOff(0) + X_SUBCLASS]]).toEqual([1, 0, 1, 2]);
    s.take('spin_unlock_irqrestore');
    expect([s.cpu(0, C_IRQS_OFF), s.s[s.m.ctxOff(0) + X_SUBCLASS]]).toEqual([0, 0]);
  });

  it('mutex_lock_nested, raw_spin_lock_nested and write_lock_nested hold their lock as the plain forms do', () => {
    for (const [body, locks] of [
      [[mutex_lock('M'), mutex_lock_nested('M2', 1), mutex_unlock('M2'), mutex_unlock('M')], { M: 'mutex', M2: 'mutex' }],
      [[raw_spin_lock_nested('Q', 1), raw_spin_unlock('Q')], { Q: 'raw_spinlock' }],
      [[write_lock_nested('R', 3), write_unlock('R')], { R: 'rwlock' }],
    ] as const) {
      expect(check(oneTask(body, locks)).status).toBe('verified');
    }
  });

  it('a nested acquisition of a lock the context holds is still recursion (the subclass only renames it for lockdep)', () => {
    const v = check(oneTask([spin_lock('A'), spin_lock_nested('A', 1)]));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('BUG: spinlock recursion');
  });

  it('a subclass outside 0..7 is a design error, as is a nonzero subclass on a lock beyond the first 8', () => {
    expect(() => compile(oneTask([spin_lock_nested('A', 8)]))).toThrow("spin_lock_nested: 'subclass' must be a whole number from 0 to 7, got 8");
    const many = Object.fromEntries([...Array(9).keys()].map((i) => [`L${i}`, 'spinlock' as const]));
    expect(() => compile(oneTask([spin_lock_nested('L8', 1)], many))).toThrow("kdefer limit: spin_lock_nested(&L8): lockdep subclasses are kept for the first 8 locks declared; declare 'L8' earlier");
    expect(() => compile(oneTask([spin_lock_nested('L8', 0), spin_unlock('L8')], many))).not.toThrow();
  });
});

describe('initialising a lock', () => {
  it('spin_lock_init of a lock the task holds: lockdep\'s held lock freed (lock-misuse)', () => {
    const v = check(oneTask([spin_lock('A'), spin_lock_init('A')]));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toBe('WARNING: held lock freed!\n  task t: spin_lock_init(&A) re-initialises &A, with the lock still held there by task t (debug_check_no_locks_freed)');
  });

  it('an interrupt handler re-initialising a lock its task holds: curr is the whole task', () => {
    const d = defineDesign({
      name: 'init-in-irq', cpus: 1, locks: { A: 'spinlock' }, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [spin_lock('A'), inc('x'), spin_unlock('A')] }],
      irqs: [{ name: 'eth0', handler: [spin_lock_init('A')] }],
    });
    const v = check(d);
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('held there by task t');
  });

  it('spin_lock_init of a free lock leaves it unlocked', () => {
    expect(check(oneTask([spin_lock_init('A'), spin_lock('A'), spin_unlock('A')])).status).toBe('verified');
  });

  it('re-initialising a lock another CPU holds is not seen by lockdep; the holder finds it unlocked at its unlock', () => {
    const d = defineDesign({
      name: 'init-remote', cpus: 2, locks: { A: 'spinlock' }, vars: { x: 0 },
      tasks: [
        { name: 'holder', cpu: 0, body: [spin_lock('A'), inc('x'), spin_unlock('A')] },
        { name: 'init', cpu: 1, body: [spin_lock_init('A')] },
      ],
    });
    const s = new Schedule(d).run('[task holder]: spin_lock', '[task init]: spin_lock_init', '[task holder]: x++', '[task holder]: spin_unlock');
    expect(s.violation()).toBe('lock-misuse');
    expect(s.message).toContain('BUG: spinlock already unlocked on CPU#0');
  });
});

describe('lock classes', () => {
  const instances = (extra: Partial<Design> = {}): Design => defineDesign({
    name: 'instances', cpus: 1,
    locks: { 'dev[0]->lock': { kind: 'spinlock', class: 'dev->lock' }, 'dev[1]->lock': { kind: 'spinlock', class: 'dev->lock' }, other: 'mutex' },
    tasks: [{ name: 't', cpu: 0, body: [spin_lock('dev[0]->lock'), spin_lock('dev[1]->lock'), spin_unlock('dev[1]->lock'), spin_unlock('dev[0]->lock')] }],
    ...extra,
  });

  it('instances of one class are separate locks with one class name; a lock declared by kind is its own class', () => {
    const p = compile(instances());
    expect(p.locks.map((l) => [l.name, l.kind, l.class])).toEqual([
      ['dev[0]->lock', 'spinlock', 'dev->lock'], ['dev[1]->lock', 'spinlock', 'dev->lock'], ['other', 'mutex', 'other'],
    ]);
    expect(check(instances()).status).toBe('verified');
  });

  it('a class with locks of two kinds, an empty class and an unknown key are design errors', () => {
    const two = { ...instances(), locks: { a: { kind: 'spinlock', class: 'c' }, b: { kind: 'mutex', class: 'c' } } } as Design;
    expect(() => compile(two)).toThrow("locks['b']: lockdep class 'c' has locks of two kinds: 'a' is a spinlock_t, 'b' a struct mutex");
    const empty = { ...instances(), locks: { a: { kind: 'spinlock', class: '' } } } as Design;
    expect(() => compile(empty)).toThrow('class must be a non-empty lockdep class name');
    const typo = { ...instances(), locks: { a: { kind: 'spinlock', clas: 'c' } } } as unknown as Design;
    expect(() => compile(typo)).toThrow("locks['a']: unknown key 'clas' (did you mean 'class'?)");
  });
});
