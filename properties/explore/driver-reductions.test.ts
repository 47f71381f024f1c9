/**
 * The reductions (partial-order, fusion, symmetry; model/explore/) on the
 * constructs of issue 11 (irq lines, NAPI, irq_work, RCU, seqcounts,
 * kthreads, refcounts, kmalloc): every driver design of the catalogue gets
 * the same verdict with and without them; after-step bookkeeping (RCU)
 * switches the partial-order reduction off; code that requests, enables or
 * unmasks lines keeps arrivals from being quiet; tasks and lines tied to
 * others by ids are never renamed; symmetry reads each operand from its
 * slot.
 */
import { describe, expect, it } from 'vitest';
import { DRIVER_DESIGNS } from '../../model/designs/drivers/index.ts';
import {
  add, atomic_cmpxchg, compile, defineDesign, enable_irq, inc, kthread_run, rcu_read_lock, rcu_read_unlock, request_irq, synchronize_rcu, v,
  type Design,
} from '../../model/index.ts';
import { exhaustive } from '../../model/explore/exhaustive.ts';
import { Machine } from '../../model/kernel/machine.ts';
import { StaticFootprints } from '../../model/explore/por.ts';
import { Symmetry } from '../../model/explore/symmetry.ts';

const UNREDUCED = { por: false, fusion: false, symmetry: false } as const;

describe('reductions on the driver designs', () => {
  for (const d of DRIVER_DESIGNS) {
    it(`${d.name}: the same verdict with and without reductions, with no more states`, () => {
      const p = compile(d);
      const reduced = exhaustive(p);
      const full = exhaustive(p, UNREDUCED);
      expect(reduced.status).toBe(full.status);
      expect(reduced.violation?.kind).toBe(full.violation?.kind);
      if (full.status === 'verified') expect(reduced.stats.states).toBeLessThanOrEqual(full.stats.states);
    });
  }
});

describe('what the reductions must not assume', () => {
  const twoReaders = (extra: Partial<Design> = {}): Design => defineDesign({
    name: 'rcu-por', cpus: 2, vars: { x: 0 },
    tasks: [
      { name: 'reader', cpu: 0, body: [rcu_read_lock(), inc('x'), rcu_read_unlock()] },
      { name: 'updater', cpu: 1, body: [synchronize_rcu(), inc('x')] },
    ],
    ...extra,
  });

  it('a program with after-step bookkeeping (RCU grace periods) has every footprint taken as everything', () => {
    const fp = new StaticFootprints(compile(twoReaders()));
    expect(fp.onCpu.every((f) => f.all)).toBe(true);
  });

  it('symmetry is refused for tasks born by kthread_run or after another task, and for lines requested by code or threaded', () => {
    const born = compile(defineDesign({
      name: 'born', cpus: 2, vars: { x: 0 },
      tasks: [{ name: 'a', cpu: 0, body: [kthread_run('k')] }, { name: 'k', cpu: 1, start: 'kthread_run', body: [inc('x')] }],
    }));
    expect(Symmetry.of(born, new Machine(born))).toBe('a task starts by kthread_run or after another task');
    const lines = compile(defineDesign({
      name: 'lines', cpus: 2, vars: { x: 0 },
      tasks: [{ name: 'a', cpu: 0, body: [request_irq('l0')] }, { name: 'b', cpu: 1, body: [request_irq('l1')] }],
      irqs: [{ name: 'l0', cpus: [0], start: 'request_irq', handler: [inc('x')] }, { name: 'l1', cpus: [1], start: 'request_irq', handler: [inc('x')] }],
    }));
    expect(Symmetry.of(lines, new Machine(lines))).toBe('an interrupt line is threaded, requested by code or a kernel vector');
  });

  it('an arrival enabled by another CPU\'s enable_irq: the same verdicts with and without reductions', () => {
    // cpu1 enables a line of cpu0 that starts disabled; the handler must be able to run before and after cpu0's task.
    const d = defineDesign({
      name: 'enable-remote', cpus: 2, vars: { x: 0, y: 0 },
      tasks: [{ name: 'a', cpu: 0, body: [inc('y')] }, { name: 'b', cpu: 1, body: [request_irq('l')] }],
      irqs: [{ name: 'l', cpus: [0], start: 'request_irq', flags: ['NO_AUTOEN'], handler: [inc('x')] }],
      invariants: [{ name: 'never both', holds: { fn: '!', args: [{ fn: '&&', args: [{ var: 'x' }, { fn: '==', args: [{ var: 'y' }, 0] }] }] } }],
    });
    // NO_AUTOEN: the line never fires (nobody calls enable_irq): verified either way.
    expect(exhaustive(compile(d)).status).toBe(exhaustive(compile(d), UNREDUCED).status);
    const enabled = defineDesign({ ...d, tasks: [d.tasks[0]!, { name: 'b', cpu: 1, body: [request_irq('l'), enable_irq('l')] }] });
    const full = exhaustive(compile(enabled), UNREDUCED);
    expect(full.violation?.kind).toBe('assertion');
    expect(exhaustive(compile(enabled)).violation?.kind).toBe('assertion');
  });
});

describe('symmetry reads each operand from its slot', () => {
  it('atomic_cmpxchg (a packed register before its expressions) is compared by its expressions, and the check ends', () => {
    // The packed register shares the variable's slot (as sk_add_backlog's and napi_complete_done's): counted as one of its own, the
    // expressions were read one slot too far (the next instruction's opcode as a pool offset), which hung some searches.
    const d = defineDesign({
      name: 'packed', cpus: 2, vars: { x: 0 },
      tasks: [0, 1].map((cpu) => ({ name: `t${cpu}`, cpu, body: [atomic_cmpxchg('x', v('x'), add(v('x'), 1), 'old')] })),
    });
    const p = compile(d);
    const sym = Symmetry.of(p, new Machine(p));
    expect(typeof sym === 'string' ? sym : sym.orbits).toEqual([[0, 1]]);
    const reduced = exhaustive(p);
    const full = exhaustive(p, UNREDUCED);
    expect([reduced.status, reduced.stats.states < full.stats.states]).toEqual(['verified', true]);
  }, 10_000);
});
