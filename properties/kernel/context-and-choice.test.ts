/**
 * Context predicates in expressions (include/linux/preempt.h, irqflags.h;
 * model/kernel/data.ts), either() as a nondeterministic branch, and kmalloc
 * with GFP flags and failure (model/kernel/lifetime.ts, mm/slab.h
 * might_alloc).
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, DesignError, either, if_, in_atomic, in_hardirq, in_interrupt, in_serving_softirq, in_softirq, in_task,
  inc, irqs_disabled, kfree, kmalloc, kzalloc, load, local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable, preempt_disable,
  preempt_enable, preemptible, r, raise_softirq, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, v, type Design, type Expr, type Stmt,
} from '../../model/index.ts';
import { exprText } from '../../model/dsl/compile.ts';
import { Schedule } from '../helpers/schedule.ts';

const PREDICATES: Record<string, () => Expr> = {
  in_interrupt, in_hardirq, in_softirq, in_serving_softirq, in_task, in_atomic, irqs_disabled, preemptible,
};
/** Every predicate into a register, at one point of a body. */
const sample = (): Stmt[] => Object.entries(PREDICATES).map(([name, p]) => load(name, p()));

/** Run a one-CPU design to its end and read the predicate registers the task recorded at `mark`. */
function predicatesIn(body: readonly Stmt[], extra: Partial<Design> = {}): Record<string, number> {
  const d = defineDesign({ name: 'pred', cpus: 1, locks: { L: 'spinlock' }, vars: { n: 0 }, tasks: [{ name: 't', cpu: 0, body }], ...extra });
  const s = new Schedule(d);
  s.runToEnd();
  return Object.fromEntries(Object.keys(PREDICATES).map((name) => [name, s.taskReg('t', name)]));
}

describe('context predicates (preempt.h)', () => {
  it('in a task with nothing disabled: in_task and preemptible, nothing else', () => {
    expect(predicatesIn(sample())).toEqual({ in_interrupt: 0, in_hardirq: 0, in_softirq: 0, in_serving_softirq: 0, in_task: 1, in_atomic: 0, irqs_disabled: 0, preemptible: 1 });
  });

  it('under a spinlock in a task: in_atomic, not preemptible, but not in_interrupt (pitfall P1)', () => {
    expect(predicatesIn([spin_lock('L'), ...sample(), spin_unlock('L')])).toMatchObject({ in_interrupt: 0, in_task: 1, in_atomic: 1, preemptible: 0 });
  });

  it('with BH disabled in a task: in_softirq and in_interrupt are true, in_serving_softirq is not (P2)', () => {
    expect(predicatesIn([local_bh_disable(), ...sample(), local_bh_enable()])).toMatchObject({ in_interrupt: 1, in_softirq: 1, in_serving_softirq: 0, in_task: 1, in_atomic: 1 });
  });

  it('with irqs off in a task: irqs_disabled, in_task still true (P3), not preemptible, in_atomic false', () => {
    expect(predicatesIn([local_irq_disable(), ...sample(), local_irq_enable()])).toMatchObject({ irqs_disabled: 1, in_task: 1, preemptible: 0, in_atomic: 0 });
  });

  it('under preempt_disable: in_atomic, not preemptible', () => {
    expect(predicatesIn([preempt_disable(), ...sample(), preempt_enable()])).toMatchObject({ in_atomic: 1, preemptible: 0, in_interrupt: 0 });
  });

  it('in a hardirq handler: in_hardirq, in_interrupt, irqs_disabled, not in_task', () => {
    const d = defineDesign({ name: 'pred-hardirq', cpus: 1, vars: { hard: 0, intr: 0, task: 1, off: 0 }, tasks: [{ name: 't', cpu: 0, body: [] }],
      irqs: [{ name: 'dev', handler: [if_(in_hardirq(), [inc('hard')]), if_(in_interrupt(), [inc('intr')]), if_(in_task(), [], [{ op: 'dec', var: 'task' }]), if_(irqs_disabled(), [inc('off')])] }] });
    const s = new Schedule(d);
    s.runToEnd(['dev interrupt']);
    expect(['hard', 'intr', 'task', 'off'].map((x) => s.variable(x))).toEqual([1, 1, 0, 1]);
  });

  it('in a softirq handler: in_serving_softirq and in_softirq, not in_task', () => {
    const d = defineDesign({ name: 'pred-softirq', cpus: 1, vars: { serving: 0, soft: 0, task: 1 }, tasks: [{ name: 't', cpu: 0, body: [local_bh_disable(), raise_softirq('NET_RX'), local_bh_enable()] }],
      softirqs: { NET_RX: [if_(in_serving_softirq(), [inc('serving')]), if_(in_softirq(), [inc('soft')]), if_(in_task(), [], [{ op: 'dec', var: 'task' }])] } });
    const s = new Schedule(d);
    s.runToEnd();
    expect(['serving', 'soft', 'task'].map((x) => s.variable(x))).toEqual([1, 1, 0]);
  });

  it('a predicate in an invariant is a design error (an invariant is about the whole machine)', () => {
    expect(() => compile(defineDesign({ name: 'p', cpus: 1, vars: { n: 0 }, tasks: [{ name: 't', cpu: 0, body: [] }], invariants: [{ name: 'i', holds: in_task() }] }))).toThrow(DesignError);
  });

  it('reads as the kernel function in traces', () => {
    expect(exprText(in_serving_softirq())).toBe('in_serving_softirq()');
  });
});

describe('either()', () => {
  const d = (body: readonly Stmt[]): Design => defineDesign({
    name: 'either', cpus: 1, vars: { x: 0, y: 0 }, tasks: [{ name: 't', cpu: 0, body }],
    invariants: [{ name: 'x is never 2', holds: { fn: '!=', args: [v('x'), 2] } }],
  });

  it('is a choice: the explorer takes every branch', () => {
    expect(check(d([either([inc('x')], [inc('x'), inc('x')])])).violation?.kind).toBe('assertion');
    expect(check(d([either([inc('x')], [inc('y')])])).status).toBe('verified');
  });

  it('a schedule names the branch it took', () => {
    const s = new Schedule(d([either([inc('x')], [inc('y')], [])]));
    expect(s.enabledLabels()).toEqual(['cpu0 [task t]: either → branch 1 of 3', 'cpu0 [task t]: either → branch 2 of 3', 'cpu0 [task t]: either → branch 3 of 3']);
    s.take('branch 2 of 3');
    s.take('y++');
  });

  it('needs 2 to 8 branches', () => {
    expect(() => compile(d([{ op: 'either', branches: [[inc('x')]] } as unknown as Stmt]))).toThrow(DesignError);
  });

  it('a register set in every branch is set after it; in only one, it is not', () => {
    expect(() => compile(d([either([load('a', 1)], [load('a', 2)]), load('b', r('a'))]))).not.toThrow();
    expect(() => compile(d([either([load('a', 1)], []), load('b', r('a'))]))).toThrow(/used before it is set/);
  });
});

describe('kmalloc / kzalloc (GFP, mayFail)', () => {
  const alloc = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
    name: 'kmalloc', cpus: 1, locks: { L: 'spinlock' }, vars: { 'p->x': 0 }, structs: { p: { members: ['p->x'], allocated: false } },
    tasks: [{ name: 't', cpu: 0, body }], ...extra,
  });

  it('a struct declared allocated: false is touched only after its kmalloc: before it, a NULL dereference', () => {
    expect(check(alloc([kmalloc('p', 'GFP_KERNEL'), inc('p->x'), kfree('p')])).status).toBe('verified');
    const v1 = check(alloc([inc('p->x')]));
    expect(v1.violation?.kind).toBe('use-after-free');
    expect(v1.violation?.message).toContain('null-ptr-deref');
  });

  it('GFP_KERNEL may sleep: under a spinlock, "sleeping function called from invalid context" even if it would not sleep', () => {
    expect(check(alloc([spin_lock('L'), kmalloc('p', 'GFP_KERNEL'), spin_unlock('L')])).violation?.kind).toBe('sleep-in-atomic');
    expect(check(alloc([spin_lock_bh('L'), kzalloc('p', 'GFP_KERNEL'), spin_unlock_bh('L')])).violation?.kind).toBe('sleep-in-atomic');
  });

  it('GFP_KERNEL in a task may block in direct reclaim (a choice), and wakes later', () => {
    const s = new Schedule(alloc([kmalloc('p', 'GFP_KERNEL'), inc('p->x')]));
    expect(s.enabledLabels().length).toBe(2);
    s.take('sleeps in direct reclaim');
    s.runToEnd();
    expect(s.violation()).toBeNull();
  });

  it('GFP_ATOMIC never sleeps, also under a spinlock', () => {
    expect(check(alloc([spin_lock('L'), kmalloc('p', 'GFP_ATOMIC'), spin_unlock('L'), inc('p->x')])).status).toBe('verified');
    expect(check(alloc([spin_lock('L'), kmalloc('p', 'GFP_NOWAIT'), spin_unlock('L'), inc('p->x')])).status).toBe('verified');
  });

  it('with mayFail the allocation may return NULL: ret is 0, the struct stays unallocated and the failure path must not touch it', () => {
    const safe = alloc([kmalloc('p', 'GFP_ATOMIC', { ret: 'p', mayFail: true }), if_(r('p'), [inc('p->x')])]);
    expect(check(safe).status).toBe('verified');
    const s = new Schedule(safe);
    s.take('fails, returns NULL');
    expect(s.taskReg('t', 'p')).toBe(0);
    const unsafe = alloc([kmalloc('p', 'GFP_ATOMIC', { ret: 'p', mayFail: true }), inc('p->x')]);
    expect(check(unsafe).violation?.message).toContain('null-ptr-deref');
  });

  it('without mayFail the allocation always succeeds', () => {
    const s = new Schedule(alloc([kmalloc('p', 'GFP_ATOMIC', { ret: 'p' })]));
    expect(s.enabledLabels().length).toBe(1);
    s.runToEnd();
    expect(s.taskReg('t', 'p')).toBe(1);
  });

  it('mayFail without a result register: the unchecked pointer is dereferenced; a struct allocated twice is a kdefer limit', () => {
    expect(check(alloc([kmalloc('p', 'GFP_ATOMIC', { mayFail: true }), inc('p->x')])).violation?.message).toContain('null-ptr-deref');
    expect(() => check(alloc([kmalloc('p', 'GFP_ATOMIC'), kmalloc('p', 'GFP_ATOMIC')]))).toThrow(/kdefer limit/);
  });

  it('the GFP must be one the model knows', () => {
    expect(() => compile(alloc([{ op: 'kmalloc', obj: 'p', gfp: 'GFP_DMA' } as unknown as Stmt]))).toThrow(DesignError);
  });

  it('a context-guessing GFP (in_interrupt() ? GFP_ATOMIC : GFP_KERNEL) under a spinlock in a task picks GFP_KERNEL (B49)', () => {
    const guess = if_(in_interrupt(), [kmalloc('p', 'GFP_ATOMIC')], [kmalloc('p', 'GFP_KERNEL')]);
    expect(check(alloc([spin_lock('L'), guess, spin_unlock('L')])).violation?.kind).toBe('sleep-in-atomic');
    expect(check(alloc([guess])).status).toBe('verified');
  });
});
