/**
 * Builders for atomics, bitops and reference counts (include/linux/atomic.h,
 * include/asm-generic/bitops/atomic.h, include/linux/refcount.h,
 * include/linux/kref.h). They act on design variables (`vars`), each in one
 * step; the semantics are in model/kernel/atomic.ts.
 *
 * Every builder that returns a value takes an optional `ret` register, and
 * can be a branch condition: `if_(test_and_set_bit(0, 'dev->flags'), …)`,
 * `if_(refcount_dec_and_test('obj->ref'), [kfree('obj')])`.
 */
import type { Expr, Stmt } from './design.ts';

const withRet = (st: Record<string, unknown>, ret: string | undefined): Stmt => (ret === undefined ? st : { ...st, reg: ret }) as Stmt;

/** `set_bit(nr, addr)` */
export const set_bit = (nr: number, v: string): Stmt => ({ op: 'set_bit', count: nr, var: v });
/** `clear_bit(nr, addr)` */
export const clear_bit = (nr: number, v: string): Stmt => ({ op: 'clear_bit', count: nr, var: v });
/** `test_bit(nr, addr)`: 1 if the bit is set (a condition, or into `ret`). */
export const test_bit = (nr: number, v: string, ret?: string): Stmt => withRet({ op: 'test_bit', count: nr, var: v }, ret);
/** `test_and_set_bit(nr, addr)`: set the bit; 1 if it was already set. */
export const test_and_set_bit = (nr: number, v: string, ret?: string): Stmt => withRet({ op: 'test_and_set_bit', count: nr, var: v }, ret);
/** `test_and_clear_bit(nr, addr)`: clear the bit; 1 if it was set. */
export const test_and_clear_bit = (nr: number, v: string, ret?: string): Stmt => withRet({ op: 'test_and_clear_bit', count: nr, var: v }, ret);

/** `atomic_read(&v)`: the value, as an expression. */
export const atomic_read = (v: string): Expr => ({ var: v });
export const atomic_set = (v: string, value: Expr): Stmt => ({ op: 'atomic_set', var: v, value });
export const atomic_inc = (v: string): Stmt => ({ op: 'atomic_inc', var: v });
export const atomic_dec = (v: string): Stmt => ({ op: 'atomic_dec', var: v });
export const atomic_add = (v: string, value: Expr): Stmt => ({ op: 'atomic_add', var: v, value });
export const atomic_sub = (v: string, value: Expr): Stmt => ({ op: 'atomic_sub', var: v, value });
export const atomic_inc_return = (v: string, ret?: string): Stmt => withRet({ op: 'atomic_inc_return', var: v }, ret);
export const atomic_dec_return = (v: string, ret?: string): Stmt => withRet({ op: 'atomic_dec_return', var: v }, ret);
/** `atomic_dec_and_test(&v)`: decrement; 1 if the result is 0 (no underflow check: 0 → -1 silently). */
export const atomic_dec_and_test = (v: string, ret?: string): Stmt => withRet({ op: 'atomic_dec_and_test', var: v }, ret);
/** `ret = atomic_cmpxchg(&v, old, new)`: if v == old, v = new; returns the value read. */
export const atomic_cmpxchg = (v: string, old: Expr, nu: Expr, ret: string): Stmt => ({ op: 'atomic_cmpxchg', var: v, reg: ret, old, new: nu });

/** `refcount_read(&r)`: the count, as an expression. */
export const refcount_read = (r: string): Expr => ({ var: r });
export const refcount_set = (r: string, n: number): Stmt => ({ op: 'refcount_set', var: r, count: n });
/** `refcount_inc(&r)`: warns "addition on 0; use-after-free" from 0. */
export const refcount_inc = (r: string): Stmt => ({ op: 'refcount_inc', var: r });
/** `refcount_inc_not_zero(&r)`: 0 (and no increment) if the count is 0. */
export const refcount_inc_not_zero = (r: string, ret?: string): Stmt => withRet({ op: 'refcount_inc_not_zero', var: r }, ret);
/** `refcount_dec(&r)`: for a count that cannot reach 0; warns "decrement hit 0; leaking memory". */
export const refcount_dec = (r: string): Stmt => ({ op: 'refcount_dec', var: r });
/** `refcount_dec_and_test(&r)`: 1 if this put dropped the last reference; warns "underflow; use-after-free" from 0. */
export const refcount_dec_and_test = (r: string, ret?: string): Stmt => withRet({ op: 'refcount_dec_and_test', var: r }, ret);

/** `kref_init(&k)`: the count is 1. */
export const kref_init = (k: string): Stmt => ({ op: 'kref_init', var: k });
/** `kref_get(&k)` = refcount_inc. */
export const kref_get = (k: string): Stmt => ({ op: 'kref_get', var: k });
/** `kref_get_unless_zero(&k)`: 0 if the object is already being released ("not found"). */
export const kref_get_unless_zero = (k: string, ret?: string): Stmt => withRet({ op: 'kref_get_unless_zero', var: k }, ret);
/**
 * `kref_put(&k, release)`: drop a reference; the last one calls the
 * design function `release` inline, in the caller's context. `ret`: 1 if
 * it released.
 */
export const kref_put = (k: string, release: string, ret?: string): Stmt => withRet({ op: 'kref_put', var: k, fn: release }, ret);
