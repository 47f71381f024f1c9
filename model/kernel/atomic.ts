/**
 * Atomic read-modify-write operations on design variables, each one step
 * (shared/kernel-semantics-drivers.md D1):
 *  - bitops (include/asm-generic/bitops/atomic.h): set_bit, clear_bit,
 *    test_bit, test_and_set_bit, test_and_clear_bit;
 *  - atomic_t (include/linux/atomic/atomic-instrumented.h): atomic_set,
 *    atomic_inc, atomic_dec, atomic_add, atomic_sub, atomic_dec_and_test,
 *    atomic_cmpxchg; atomic_read is the expression v(name). No overflow or
 *    underflow check: atomic_dec_and_test from 0 gives -1 silently;
 *  - refcount_t (include/linux/refcount.h, lib/refcount.c
 *    refcount_warn_saturate): refcount_set, refcount_inc,
 *    refcount_inc_not_zero, refcount_dec, refcount_dec_and_test, with the
 *    kernel's checks: an increment from 0 ("refcount_t: addition on 0;
 *    use-after-free."), a decrement at or below 0 ("refcount_t: underflow;
 *    use-after-free."), a refcount_dec to 0 ("refcount_t: decrement hit 0;
 *    leaking memory."), a negative count ("refcount_t: saturated; leaking
 *    memory."). refcount_warn_saturate stores REFCOUNT_SATURATED and warns;
 *    the model reports the warning as a violation (it always means a logic
 *    bug): `use-after-free` for the first two, `assertion` for the leaks;
 *  - kref (include/linux/kref.h): kref_init, kref_get, kref_get_unless_zero
 *    are the refcount ops; kref_put(ref, release) is an expansion:
 *    refcount_dec_and_test, then the release function called inline, in
 *    the caller's context (so a release that sleeps is B25 wherever the
 *    last put can happen).
 *
 * Refcounts and object lifetime: only refcount_dec_and_test returning true
 * licenses the free (the release calls kfree, model/kernel/lifetime.ts). A
 * refcount that lives in the freed struct is then gone: any later get or
 * put on it touches freed memory, which KASAN reports first (a
 * slab-use-after-free); a refcount outside it reports the refcount_t
 * warnings above.
 *
 * Memory ordering (relaxed set_bit, release/acquire refcounts,
 * smp_mb__before_atomic) is not modelled: every step is sequentially
 * consistent, so a design whose correctness needs more than atomicity
 * cannot be judged here.
 */
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import { X_PC } from './layout.ts';
import { evaluate } from './data.ts';
import type { Expansion, Mechanism, OperandSpec, OpSemantics } from './semantics.ts';

/** REFCOUNT_SATURATED (include/linux/refcount.h): INT_MIN / 2. */
export const REFCOUNT_SATURATED = -0x40000000;

const VAR: OperandSpec = { kind: 'var', field: 'var' };
const BIT: OperandSpec = { kind: 'int', field: 'count', min: 0, max: 30 };
const RET: OperandSpec = { kind: 'reg-def', field: 'reg', optional: true };
const RESULT: OperandSpec = { kind: 'reg-def', field: 'reg' };

const varOff = (m: Machine, v: number): number => m.L.varBase + v;
const value = (m: Machine, v: number): number => m.s[varOff(m, v)]!;
const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;
const setRet = (m: Machine, ctx: number, reg: number, x: number): void => {
  if (reg >= 0) m.setReg(ctx, reg, x);
};

/** A one-step read-modify-write: the new value and the result it returns, from the old value. */
function rmw(
  name: string,
  operands: readonly OperandSpec[],
  step: (old: number, m: Machine, cpu: number, ctx: number, a: number, b: number, c: number) => { next: number; ret?: number },
  where: (a: number, b: number, c: number) => { v: number; reg: number },
): OpSemantics {
  // The operand slots (a, b, c) holding expressions: a packed operand shares the slot before it.
  const exprSlots: number[] = [];
  let slot = -1;
  for (const spec of operands) {
    if (!('packed' in spec && spec.packed)) slot++;
    if (spec.kind === 'expr') exprSlots.push(slot);
  }
  return {
    name,
    operands,
    // One variable, read and written in one step (test_bit only reads it: it writes back the value it read), and what its value operands read.
    footprint(f, a, b, c) {
      const item = f.variable(where(a, b, c).v);
      if (name === 'test_bit') f.read(item);
      else f.write(item);
      for (const k of exprSlots) f.expr([a, b, c][k]!);
    },
    exec(m, cpu, ctx, a, b, c) {
      const { v, reg } = where(a, b, c);
      const r = step(value(m, v), m, cpu, ctx, a, b, c);
      m.w(varOff(m, v), r.next | 0);
      if (r.ret !== undefined) setRet(m, ctx, reg, r.ret);
      m.advance(ctx);
    },
    label(m, cpu, ctx, a, b, c) {
      const { v } = where(a, b, c);
      const old = value(m, v);
      const r = step(old, m, cpu, ctx, a, b, c);
      return `${textOf(m, ctx)}${r.ret !== undefined ? ` → ${r.ret}` : ''}${r.next !== old ? ` (${old} → ${r.next | 0})` : ''}`;
    },
  };
}

const bitOf = (nr: number): number => 1 << nr;
/** Operands nr (a), var (b), optional return register (c). */
const bitWhere = (_a: number, b: number, c: number) => ({ v: b, reg: c });
const varWhere = (a: number, b: number) => ({ v: a, reg: b });

const BITOPS: readonly OpSemantics[] = [
  rmw('set_bit', [BIT, VAR], (old, _m, _cpu, _ctx, nr) => ({ next: old | bitOf(nr) }), bitWhere),
  rmw('clear_bit', [BIT, VAR], (old, _m, _cpu, _ctx, nr) => ({ next: old & ~bitOf(nr) }), bitWhere),
  rmw('test_bit', [BIT, VAR, RESULT], (old, _m, _cpu, _ctx, nr) => ({ next: old, ret: (old & bitOf(nr)) !== 0 ? 1 : 0 }), bitWhere),
  rmw('test_and_set_bit', [BIT, VAR, RET], (old, _m, _cpu, _ctx, nr) => ({ next: old | bitOf(nr), ret: (old & bitOf(nr)) !== 0 ? 1 : 0 }), bitWhere),
  rmw('test_and_clear_bit', [BIT, VAR, RET], (old, _m, _cpu, _ctx, nr) => ({ next: old & ~bitOf(nr), ret: (old & bitOf(nr)) !== 0 ? 1 : 0 }), bitWhere),
];

const EXPR: OperandSpec = { kind: 'expr', field: 'value' };

const ATOMICS: readonly OpSemantics[] = [
  rmw('atomic_set', [VAR, EXPR], (_old, m, cpu, ctx, _a, b) => ({ next: evaluate(m, cpu, ctx, b) }), (a) => ({ v: a, reg: -1 })),
  rmw('atomic_inc', [VAR], (old) => ({ next: old + 1 }), (a) => ({ v: a, reg: -1 })),
  rmw('atomic_dec', [VAR], (old) => ({ next: old - 1 }), (a) => ({ v: a, reg: -1 })),
  rmw('atomic_add', [VAR, EXPR], (old, m, cpu, ctx, _a, b) => ({ next: old + evaluate(m, cpu, ctx, b) }), (a) => ({ v: a, reg: -1 })),
  rmw('atomic_sub', [VAR, EXPR], (old, m, cpu, ctx, _a, b) => ({ next: old - evaluate(m, cpu, ctx, b) }), (a) => ({ v: a, reg: -1 })),
  rmw('atomic_inc_return', [VAR, RET], (old) => ({ next: old + 1, ret: old + 1 }), varWhere),
  rmw('atomic_dec_return', [VAR, RET], (old) => ({ next: old - 1, ret: old - 1 }), varWhere),
  rmw('atomic_dec_and_test', [VAR, RET], (old) => ({ next: old - 1, ret: old - 1 === 0 ? 1 : 0 }), varWhere),
  // atomic_cmpxchg(v, old, new): the variable and its (packed) result register, then old and new; returns the value read.
  rmw(
    'atomic_cmpxchg',
    [VAR, { kind: 'reg-def', field: 'reg', packed: true }, { kind: 'expr', field: 'old' }, { kind: 'expr', field: 'new' }],
    (old, m, cpu, ctx, _a, b, c) => ({ next: old === evaluate(m, cpu, ctx, b) ? evaluate(m, cpu, ctx, c) : old, ret: old }),
    (a) => ({ v: a & 0xffff, reg: (a >>> 16) - 1 }),
  ),
];

// ------------------------------------------------------------ refcount_t

/** refcount_warn_saturate(r, t): store REFCOUNT_SATURATED, then the kernel's warning, as a violation. */
function warnSaturate(m: Machine, cpu: number, ctx: number, v: number, what: string, text: string, old: number): void {
  const uaf = what.endsWith('use-after-free');
  m.w(varOff(m, v), REFCOUNT_SATURATED);
  m.fail(uaf ? 'use-after-free' : 'assertion',
    `refcount_t: ${what}.\nWARNING: CPU: ${cpu} at lib/refcount.c refcount_warn_saturate: ${text} in ${m.contextName(ctx)} (${m.p.vars[v]} was ${old})`,
    cpu, ctx);
}

/** What a refcount op does to `old`: its result, and the warning refcount_warn_saturate would print, if any. */
type RefStep = { next: number; ret?: number; warn?: string };

function refOp(name: string, operands: readonly OperandSpec[], step: (old: number) => RefStep): OpSemantics {
  return {
    name,
    operands,
    // One variable (a warning saturates it).
    footprint(f, a) {
      f.write(f.variable(a));
    },
    exec(m, cpu, ctx, a, b) {
      const old = value(m, a);
      const r = step(old);
      if (r.warn) {
        warnSaturate(m, cpu, ctx, a, r.warn, textOf(m, ctx), old);
        return;
      }
      m.w(varOff(m, a), r.next | 0);
      if (r.ret !== undefined) setRet(m, ctx, b, r.ret);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const old = value(m, a);
      const r = step(old);
      if (r.warn) return `${textOf(m, ctx)}: refcount_t: ${r.warn}`;
      return `${textOf(m, ctx)}${r.ret !== undefined ? ` → ${r.ret ? 'true' : 'false'}` : ''} (${old} → ${r.next})`;
    },
  };
}

const REFCOUNTS: readonly OpSemantics[] = [
  {
    name: 'refcount_set',
    operands: [VAR, { kind: 'int', field: 'count', min: 0, max: 1 << 20 }],
    footprint(f, a) {
      f.write(f.variable(a));
    },
    exec(m, _cpu, ctx, a, b) {
      m.w(varOff(m, a), b);
      m.advance(ctx);
    },
  },
  // __refcount_add(1): old == 0 → REFCOUNT_ADD_UAF; old < 0 || old + 1 < 0 → REFCOUNT_ADD_OVF.
  refOp('refcount_inc', [VAR], (old) => (old === 0 ? { next: old, warn: 'addition on 0; use-after-free' } : old < 0 ? { next: old, warn: 'saturated; leaking memory' } : { next: old + 1 })),
  // __refcount_add_not_zero: a cmpxchg loop that never adds to 0; returns old != 0.
  refOp('refcount_inc_not_zero', [VAR, RET], (old) => (old < 0 ? { next: old, warn: 'saturated; leaking memory' } : old === 0 ? { next: 0, ret: 0 } : { next: old + 1, ret: 1 })),
  // __refcount_dec: old <= 1 → REFCOUNT_DEC_LEAK.
  refOp('refcount_dec', [VAR], (old) => (old <= 1 ? { next: old, warn: old === 1 ? 'decrement hit 0; leaking memory' : old === 0 ? 'underflow; use-after-free' : 'saturated; leaking memory' } : { next: old - 1 })),
  // __refcount_sub_and_test(1): old == 1 → true; old <= 0 → REFCOUNT_SUB_UAF.
  refOp('refcount_dec_and_test', [VAR, RET], (old) => (old <= 0 ? { next: old, warn: old === 0 ? 'underflow; use-after-free' : 'saturated; leaking memory' } : { next: old - 1, ret: old === 1 ? 1 : 0 })),
];

/** kref_*: the refcount ops under the kref names (struct kref { refcount_t refcount; }). */
const KREFS: readonly OpSemantics[] = [
  { ...REFCOUNTS[0]!, name: 'kref_init', operands: [VAR], exec(m, _cpu, ctx, a) { m.w(varOff(m, a), 1); m.advance(ctx); } },
  { ...REFCOUNTS[1]!, name: 'kref_get' },
  { ...REFCOUNTS[2]!, name: 'kref_get_unless_zero' },
];

/** kref_put(ref, release): if (refcount_dec_and_test(&ref->refcount)) { release(ref); return 1; } return 0. */
const KREF_PUT: Expansion = {
  name: 'kref_put',
  fields: ['var', 'fn', 'reg'],
  expand(st, x) {
    if (typeof st.fn !== 'string') return x.fail('kref_put needs its release function (a design function), which runs in the caller\'s context');
    const reg = typeof st.reg === 'string' ? st.reg : x.hiddenReg('kref_put');
    return {
      body: [
        { op: 'refcount_dec_and_test', var: st.var as string, reg },
        { op: 'if', cond: { reg }, then: [{ op: 'call', fn: st.fn }], else: [], text: 'that was the last reference' },
      ],
      text: `kref_put(&${String(st.var)}, ${st.fn})`,
    };
  },
};

export const ATOMIC: Mechanism = {
  name: 'atomic',
  ops: [...BITOPS, ...ATOMICS, ...REFCOUNTS, ...KREFS],
  expansions: [KREF_PUT],
};
