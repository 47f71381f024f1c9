/**
 * model/kernel/irq.ts: hard interrupt arrival, the handler's context, the
 * leak checks at handler return, and the local irq flag
 * (kernel/irq/handle.c, kernel/softirq.c irq_enter_rcu/__irq_exit_rcu,
 * include/linux/irqflags.h; shared/kernel-semantics.md §1.3).
 */
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, check, dec, defineDesign, eq, inc, local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable,
  local_irq_restore, local_irq_save, preempt_disable, preempt_enable, spin_lock, spin_unlock, v,
  type Design, type IrqSpec, type Stmt,
} from '../../model/index.ts';
import {
  C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_PREEMPT, FrameKind, I_BUDGET, I_RUNNING, X_ID, X_KIND,
} from '../../model/kernel/layout.ts';
import type { Machine } from '../../model/kernel/machine.ts';
import { forEachReachable } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (cpus: number, tasks: Design['tasks'], irqs: readonly IrqSpec[], extra: Partial<Design> = {}): Design =>
  defineDesign({ name: 'irq-rule', cpus, locks: { L: 'spinlock' }, vars: { x: 0, count: 0 }, tasks, irqs, ...extra });
const task = (body: readonly Stmt[], cpu = 0) => ({ name: 't', cpu, body });

/** The hardirq frames on `cpu`, by line index, bottom first. */
function hardirqLines(m: Machine, s: Int32Array, cpu: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < s[m.cpuOff(cpu) + C_DEPTH]!; d++) {
    const o = m.ctxOff(m.frameCtx(cpu, d));
    if (s[o + X_KIND] === FrameKind.Hardirq) out.push(s[o + X_ID]!);
  }
  return out;
}

const arrivals = (s: Schedule) => s.enabledLabels().filter((l) => l.includes('interrupt arrives'));

describe('arrival', () => {
  it('is offered only while local irqs are enabled', () => {
    const s = new Schedule(design(1, [task([local_irq_disable(), inc('x'), local_irq_enable(), inc('x')])], [{ name: 'eth0', handler: [] }]));
    expect(arrivals(s)).toEqual(['cpu0: eth0 interrupt arrives']);
    s.take('local_irq_disable');
    expect(arrivals(s)).toEqual([]);
    s.take('x++');
    expect(arrivals(s)).toEqual([]);
    s.take('local_irq_enable');
    expect(arrivals(s)).toEqual(['cpu0: eth0 interrupt arrives']);
  });

  it('interrupts a task holding a spinlock, with bh or preemption disabled, as long as irqs are on', () => {
    const body = [spin_lock('L'), local_bh_disable(), preempt_disable(), inc('x'), preempt_enable(), local_bh_enable(), spin_unlock('L')];
    const s = new Schedule(design(1, [task(body)], [{ name: 'eth0', handler: [] }])).run('spin_lock', 'local_bh_disable', 'preempt_disable');
    expect(arrivals(s)).toEqual(['cpu0: eth0 interrupt arrives']);
  });

  it('is offered only on the CPUs of the line\'s affinity', () => {
    const s = new Schedule(design(3, [], [{ name: 'eth0', cpus: [1], handler: [] }, { name: 'eth1', cpus: [0, 2], handler: [] }]));
    expect(arrivals(s)).toEqual(['cpu0: eth1 interrupt arrives', 'cpu1: eth0 interrupt arrives', 'cpu2: eth1 interrupt arrives']);
  });

  it('enters hardirq context: HARDIRQ count, irqs off, the line marked in progress, one arrival used', () => {
    const s = new Schedule(design(2, [], [{ name: 'eth0', handler: [inc('x')], budget: 2 }])).take('cpu1: eth0 interrupt arrives');
    expect(s.frames(1)).toEqual([FrameKind.Hardirq]);
    expect([s.cpu(1, C_HARDIRQ), s.cpu(1, C_IRQS_OFF), s.cpu(0, C_HARDIRQ)]).toEqual([1, 1, 0]);
    const io = s.m.irqOff(0);
    expect([s.s[io + I_RUNNING], s.s[io + I_BUDGET]]).toEqual([2, 1]); // cpu1 + 1
    s.run('[hardirq eth0]: x++', '[hardirq eth0]: return');
    expect(s.frames(1)).toEqual([]);
    expect([s.cpu(1, C_HARDIRQ), s.cpu(1, C_IRQS_OFF), s.s[io + I_RUNNING]]).toEqual([0, 0, 0]);
  });

  it('respects the budget: a line arrives at most `budget` times in any schedule', () => {
    for (const budget of [0, 1, 3]) {
      let most = 0;
      forEachReachable(design(2, [task([])], [{ name: 'eth0', handler: [inc('count')], budget }]), (m, s) => {
        const count = s[m.L.varBase + 1]!;
        most = Math.max(most, count);
        expect(s[m.irqOff(0) + I_BUDGET]).toBeGreaterThanOrEqual(0);
      });
      expect(most, `budget ${budget}`).toBe(budget);
    }
  });
});

describe('a line never nests with itself and never runs on two CPUs at once (IRQD_IRQ_INPROGRESS)', () => {
  for (const irqHandlersIrqsOff of [true, false]) {
    it(`in every reachable state, irqHandlersIrqsOff=${irqHandlersIrqsOff}`, () => {
      const d = design(2, [], [
        { name: 'eth0', handler: [inc('x'), inc('x')], budget: 3 },
        { name: 'eth1', handler: [inc('x')], budget: 2 },
      ], { flags: { irqHandlersIrqsOff } });
      let nestedOther = 0;
      let bothCpus = 0;
      forEachReachable(d, (m, s) => {
        const perCpu = [0, 1].map((c) => hardirqLines(m, s, c));
        for (const line of [0, 1]) {
          expect(perCpu.flat().filter((l) => l === line).length).toBeLessThanOrEqual(1);
        }
        if (perCpu.some((ls) => ls.length > 1)) nestedOther++;
        if (perCpu[0]!.length > 0 && perCpu[1]!.length > 0) bothCpus++;
        for (const c of [0, 1]) expect(s[m.cpuOff(c) + C_HARDIRQ]).toBe(perCpu[c]!.length);
      });
      expect(bothCpus).toBeGreaterThan(0); // different lines do run on two CPUs at once
      // Only handlers running with irqs on (before 2.6.35) let another line nest.
      if (irqHandlersIrqsOff) expect(nestedOther).toBe(0);
      else expect(nestedOther).toBeGreaterThan(0);
    });
  }
});

describe('the handler\'s context', () => {
  it('runs with irqs off (every handler since 2.6.35): in every reachable state where a hardirq is on top', () => {
    const d = design(1, [task([inc('x'), spin_lock('L'), spin_unlock('L')])], [
      { name: 'eth0', handler: [inc('x'), local_irq_save('f'), local_irq_restore('f')], budget: 2 },
      { name: 'eth1', handler: [inc('x')] },
    ]);
    let seen = 0;
    forEachReachable(d, (m, s) => {
      m.s = s;
      const top = m.top(0);
      if (top >= 0 && s[m.ctxOff(top) + X_KIND] === FrameKind.Hardirq) {
        seen++;
        expect(s[m.cpuOff(0) + C_IRQS_OFF]).toBe(1);
      }
    });
    expect(seen).toBeGreaterThan(0);
  });

  it('with irqHandlersIrqsOff=false (before 2.6.35, no IRQF_DISABLED) a handler runs with irqs on and another line may nest', () => {
    const d = design(1, [], [{ name: 'eth0', handler: [inc('x')] }, { name: 'eth1', handler: [inc('x')] }], { flags: { irqHandlersIrqsOff: false } });
    const s = new Schedule(d).take('eth0 interrupt arrives');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0);
    expect(arrivals(s)).toEqual(['cpu0: eth1 interrupt arrives']); // not eth0 itself
    s.take('eth1 interrupt arrives');
    expect(s.frames(0)).toEqual([FrameKind.Hardirq, FrameKind.Hardirq]);
    expect(s.cpu(0, C_HARDIRQ)).toBe(2);
    s.run('[hardirq eth1]: x++', '[hardirq eth1]: return');
    expect(s.topName(0)).toBe('hardirq eth0');
    expect([s.cpu(0, C_HARDIRQ), s.cpu(0, C_IRQS_OFF)]).toEqual([1, 0]);
  });

  it('with irqHandlersIrqsOff=false every other line may nest, however many lines there are', () => {
    // Before 2.6.35, handle_IRQ_event() ran each handler without IRQF_DISABLED after
    // local_irq_enable_in_hardirq(): four lines can be stacked on one task.
    const nest = [inc('nest'), BUG_ON(eq(v('nest'), 4)), dec('nest')];
    const lines = ['eth0', 'eth1', 'eth2', 'eth3'].map((name) => ({ name, handler: nest }));
    const d = design(1, [task([inc('x')])], lines, { vars: { x: 0, nest: 0 }, flags: { irqHandlersIrqsOff: false } });
    const verdict = check(d);
    expect(verdict.violation?.kind).toBe('assertion');
  });

  it('with the modern default no line arrives while a handler runs', () => {
    const d = design(1, [], [{ name: 'eth0', handler: [inc('x')] }, { name: 'eth1', handler: [inc('x')] }]);
    const s = new Schedule(d).take('eth0 interrupt arrives');
    expect(arrivals(s)).toEqual([]);
  });
});

describe('leaks at handler return', () => {
  const oneIrq = (handler: readonly Stmt[], extra: Partial<Design> = {}) => design(1, [], [{ name: 'eth0', handler }], extra);

  it('returning with a lock held is a lock-leak naming the lock', () => {
    const v = check(oneIrq([spin_lock('L')]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('irq handler eth0 returned with &L held');
    expect(v.violation?.context).toBe('hardirq eth0');
  });

  it('returning with irqs enabled is a lock-leak in the kernel\'s words ("enabled interrupts")', () => {
    // kernel/irq/handle.c __handle_irq_event_percpu: WARN_ONCE(!irqs_disabled(), "irq %u handler %pS enabled interrupts\n", …)
    const v = check(oneIrq([local_irq_enable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toBe('WARNING: irq 0 handler eth0 enabled interrupts');
  });

  it('re-enabling irqs inside the handler and disabling them again before return is fine', () => {
    expect(check(oneIrq([local_irq_enable(), inc('x'), local_irq_disable()])).status).toBe('verified');
  });

  it('returning with the preempt count changed is a lock-leak', () => {
    const v = check(oneIrq([preempt_disable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('preempt_count changed');
  });

  it('a balanced handler is fine', () => {
    expect(check(oneIrq([spin_lock('L'), inc('x'), spin_unlock('L'), local_irq_save('f'), local_irq_restore('f')])).status).toBe('verified');
  });
});

describe('local_irq_* (include/linux/irqflags.h)', () => {
  it('local_irq_save/restore nest: each restore puts back the state its save found', () => {
    const body = [local_irq_save('f1'), local_irq_save('f2'), inc('x'), local_irq_restore('f2'), local_irq_restore('f1')];
    const s = new Schedule(design(1, [task(body)], [])).take('local_irq_save(f1)');
    expect([s.cpu(0, C_IRQS_OFF), s.taskReg('t', 'f1')]).toEqual([1, 0]);
    s.take('local_irq_save(f2)');
    expect([s.cpu(0, C_IRQS_OFF), s.taskReg('t', 'f2')]).toEqual([1, 1]);
    s.run('x++', 'local_irq_restore(f2)');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
    s.take('local_irq_restore(f1)');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0);
  });

  it('local_irq_save in a handler saves "off" and its restore leaves irqs off', () => {
    const s = new Schedule(design(1, [], [{ name: 'eth0', handler: [local_irq_save('f'), local_irq_restore('f')] }]))
      .run('eth0 interrupt arrives', 'local_irq_save', 'local_irq_restore');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
  });

  it('local_irq_disable/enable are not counted: one enable undoes two disables', () => {
    const s = new Schedule(design(1, [task([local_irq_disable(), local_irq_disable(), local_irq_enable()])], []))
      .run('local_irq_disable', 'local_irq_disable', 'local_irq_enable');
    expect([s.cpu(0, C_IRQS_OFF), s.cpu(0, C_PREEMPT)]).toEqual([0, 0]);
  });

  it('a task that returns with irqs disabled leaks them', () => {
    const v = check(design(1, [task([local_irq_disable()])], []));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('irqs disabled');
  });
});
