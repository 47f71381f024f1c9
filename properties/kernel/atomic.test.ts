/**
 * model/kernel/atomic.ts: bitops, atomic_t, refcount_t and kref, each one
 * step; refcount_warn_saturate's warnings (lib/refcount.c); kref_put's
 * release in the caller's context; refcounts and object lifetime.
 */
import { describe, expect, it } from 'vitest';
import {
  atomic_cmpxchg, atomic_dec_and_test, atomic_inc, check, clear_bit, defineDesign, eq, if_, inc, kfree, kref_get, kref_get_unless_zero, kref_put,
  mutex_lock, mutex_unlock, not, r, refcount_dec, refcount_dec_and_test, refcount_inc, refcount_inc_not_zero, set_bit, spin_lock, spin_unlock,
  test_and_clear_bit, test_and_set_bit, test_bit, v, type Design, type Stmt,
} from '../../model/index.ts';
import { REFCOUNT_SATURATED } from '../../model/kernel/atomic.ts';
import { Schedule } from '../helpers/schedule.ts';

const one = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'atomic', cpus: 1, vars: { f: 0, n: 0, ref: 1 }, tasks: [{ name: 't', cpu: 0, body }], ...extra,
});
const two = (a: readonly Stmt[], b: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'atomic2', cpus: 2, vars: { f: 0, n: 0, ref: 1 }, tasks: [{ name: 'a', cpu: 0, body: a }, { name: 'b', cpu: 1, body: b }], ...extra,
});
const last = (s: Schedule): string => s.labels[s.labels.length - 1]!;

describe('bitops (include/asm-generic/bitops/atomic.h)', () => {
  it('set_bit and clear_bit change one bit in one step', () => {
    const s = new Schedule(one([set_bit(3, 'f'), set_bit(0, 'f'), clear_bit(3, 'f')]));
    s.take('set_bit');
    expect(s.variable('f')).toBe(8);
    s.take('set_bit');
    expect(s.variable('f')).toBe(9);
    s.take('clear_bit');
    expect(s.variable('f')).toBe(1);
  });

  it('test_and_set_bit returns the old bit and sets it; test_and_clear_bit returns it and clears it; test_bit only reads', () => {
    const s = new Schedule(one([test_and_set_bit(1, 'f', 'a'), test_and_set_bit(1, 'f', 'b'), test_bit(1, 'f', 'c'), test_and_clear_bit(1, 'f', 'd'), test_bit(1, 'f', 'e')]));
    s.run('test_and_set_bit', 'test_and_set_bit', 'test_bit', 'test_and_clear_bit', 'test_bit');
    expect(['a', 'b', 'c', 'd', 'e'].map((x) => s.taskReg('t', x))).toEqual([0, 1, 1, 1, 0]);
    expect(s.variable('f')).toBe(0);
  });

  it('test_and_set_bit is one step: of two CPUs racing for a bit exactly one wins (if (!test_and_set_bit(…)))', () => {
    const claim = [if_(not(test_and_set_bit(0, 'f')), [inc('n')])];
    const d = two(claim, claim, { invariants: [{ name: 'one winner', holds: { fn: '<=', args: [v('n'), 1] } }] });
    expect(check(d).status).toBe('verified');
    // The same with a plain read then write loses the race.
    const racy = [if_(eq(v('f'), 0), [inc('f'), inc('n')])];
    expect(check(two(racy, racy, { invariants: d.invariants })).violation?.kind).toBe('assertion');
  });
});

describe('atomic_t (include/linux/atomic)', () => {
  it('atomic_inc from two CPUs never loses an update', () => {
    const s = new Schedule(two([atomic_inc('n')], [atomic_inc('n')]));
    s.runToEnd();
    expect(s.variable('n')).toBe(2);
  });

  it('atomic_dec_and_test is true only for the decrement that reaches 0, and does not check underflow', () => {
    const s = new Schedule(one([atomic_dec_and_test('ref', 'a'), atomic_dec_and_test('ref', 'b')]));
    s.run('atomic_dec_and_test', 'atomic_dec_and_test');
    expect([s.taskReg('t', 'a'), s.taskReg('t', 'b'), s.variable('ref'), s.violation()]).toEqual([1, 0, -1, null]);
  });

  it('atomic_cmpxchg stores new only if the value was old, and returns what it read', () => {
    const s = new Schedule(one([atomic_cmpxchg('ref', 1, 5, 'a'), atomic_cmpxchg('ref', 1, 7, 'b')]));
    s.take('atomic_cmpxchg');
    expect([s.taskReg('t', 'a'), s.variable('ref')]).toEqual([1, 5]);
    s.take('atomic_cmpxchg');
    expect([s.taskReg('t', 'b'), s.variable('ref')]).toEqual([5, 5]);
  });
});

describe('refcount_t (lib/refcount.c refcount_warn_saturate)', () => {
  it('refcount_inc from 0: "refcount_t: addition on 0; use-after-free.", the count saturated', () => {
    const s = new Schedule(one([refcount_inc('ref')], { vars: { ref: 0 } }));
    s.take('refcount_inc');
    expect(s.violation()).toBe('use-after-free');
    expect(s.message).toContain('refcount_t: addition on 0; use-after-free.');
    expect(s.message).toContain('refcount_warn_saturate');
    expect(s.variable('ref')).toBe(REFCOUNT_SATURATED);
  });

  it('refcount_dec_and_test at 0: "refcount_t: underflow; use-after-free."', () => {
    const s = new Schedule(one([refcount_dec_and_test('ref')], { vars: { ref: 0 } }));
    s.take('refcount_dec_and_test');
    expect(s.violation()).toBe('use-after-free');
    expect(s.message).toContain('refcount_t: underflow; use-after-free.');
  });

  it('refcount_dec to 0: "refcount_t: decrement hit 0; leaking memory.", an assertion', () => {
    const s = new Schedule(one([refcount_dec('ref')]));
    s.take('refcount_dec');
    expect(s.violation()).toBe('assertion');
    expect(s.message).toContain('refcount_t: decrement hit 0; leaking memory.');
  });

  it('a saturated count: "refcount_t: saturated; leaking memory."', () => {
    const s = new Schedule(one([refcount_inc('ref')], { vars: { ref: REFCOUNT_SATURATED } }));
    s.take('refcount_inc');
    expect([s.violation(), s.message?.split('\n')[0]]).toEqual(['assertion', 'refcount_t: saturated; leaking memory.']);
  });

  it('refcount_inc_not_zero never adds to 0: it returns false and leaves 0', () => {
    const s = new Schedule(one([refcount_inc_not_zero('ref', 'a')], { vars: { ref: 0 } }));
    s.take('refcount_inc_not_zero');
    expect([s.taskReg('t', 'a'), s.variable('ref'), s.violation()]).toEqual([0, 0, null]);
  });

  it('refcount_dec_and_test is true for the last reference, then the count is 0', () => {
    const s = new Schedule(one([refcount_inc('ref'), refcount_dec_and_test('ref', 'a'), refcount_dec_and_test('ref', 'b')]));
    s.run('refcount_inc', 'refcount_dec_and_test', 'refcount_dec_and_test');
    expect([s.taskReg('t', 'a'), s.taskReg('t', 'b'), s.variable('ref')]).toEqual([0, 1, 0]);
  });
});

describe('kref (include/linux/kref.h) and object lifetime', () => {
  const obj = (a: readonly Stmt[], b: readonly Stmt[], release: readonly Stmt[] = [kfree('o')]): Design => defineDesign({
    name: 'kref', cpus: 2, locks: { m: 'mutex', l: 'spinlock' }, vars: { 'o->ref': 1, 'o->x': 0 }, structs: { o: { members: ['o->ref', 'o->x'] } },
    functions: { release }, tasks: [{ name: 'a', cpu: 0, body: a }, { name: 'b', cpu: 1, body: b }],
  });

  it('kref_put runs its release only when the count reaches 0, inline in the caller\'s context', () => {
    const s = new Schedule(obj([kref_get('o->ref'), kref_put('o->ref', 'release'), kref_put('o->ref', 'release')], []));
    s.run('kref_get', 'kref_put(&o->ref, release) → false (2 → 1)', 'if (that was the last reference) → false');
    expect(s.can('kfree')).toBe(false);
    s.run('kref_put(&o->ref, release) → true (1 → 0)', 'if (that was the last reference) → true');
    expect(last(s)).toContain('[task a]');
    expect(s.can('[task a]: kfree(&o)')).toBe(true);
  });

  it('kref_put sets its result register: 1 when it released', () => {
    const s = new Schedule(obj([kref_put('o->ref', 'release', 'gone')], [], []));
    s.runToEnd();
    expect(s.taskReg('a', 'gone')).toBe(1);
  });

  it('a release that sleeps is judged where the last put runs: under a spinlock it sleeps in atomic context', () => {
    const d = obj([spin_lock('l'), kref_put('o->ref', 'release'), spin_unlock('l')], [], [mutex_lock('m'), mutex_unlock('m'), kfree('o')]);
    expect(check(d).violation?.kind).toBe('sleep-in-atomic');
  });

  it('a get on a refcount inside the freed struct is a use-after-free (KASAN first)', () => {
    const v1 = check(obj([kref_put('o->ref', 'release')], [kref_get('o->ref'), kref_put('o->ref', 'release')]));
    expect(v1.violation?.kind).toBe('use-after-free');
    expect(v1.violation?.message).toMatch(/use-after-free|addition on 0/);
  });

  it('kref_get_unless_zero after the last put finds 0 (if the memory is still there) and takes nothing', () => {
    // The struct is not freed by this release, so only the count says it is dying.
    const s = new Schedule(obj([kref_put('o->ref', 'release')], [kref_get_unless_zero('o->ref', 'got')], [inc('o->x')]));
    s.runToEnd(['[task a]']);
    expect([s.taskReg('b', 'got'), s.variable('o->ref'), s.violation()]).toEqual([0, 0, null]);
  });

  it('a touch of the struct after the put that freed it is a use-after-free', () => {
    const d = obj([kref_put('o->ref', 'release')], [kref_get_unless_zero('o->ref', 'got'), if_(r('got'), [inc('o->x'), kref_put('o->ref', 'release')])]);
    // Either order ends with at most one free and no touch after it, except b's get after a's free.
    expect(check(d).violation?.kind).toBe('use-after-free');
  });
});
