/**
 * model/kernel/local_lock.ts: local_lock_t without PREEMPT_RT
 * (include/linux/local_lock_internal.h): preemption or irqs off, one
 * instance per CPU, never waits; a second owner on one CPU is
 * DEBUG_LOCKS_WARN_ON(l->owner).
 */
import { describe, expect, it } from 'vitest';
import {
  check, defineDesign, inc, local_irq_disable, local_lock, local_lock_init, local_lock_irq, local_lock_irqsave, local_unlock,
  local_unlock_irq, local_unlock_irqrestore, this_cpu_inc, type Design, type Stmt,
} from '../../model/index.ts';
import { C_IRQS_OFF, C_PREEMPT, X_HELD } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (bodies: readonly (readonly Stmt[])[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'local-lock', cpus: bodies.length, locks: { 'stats.lock': 'local_lock' }, percpu: { hits: 0 }, vars: { x: 0 },
  tasks: bodies.map((body, cpu) => ({ name: `t${cpu}`, cpu, body })),
  ...extra,
});
const L = 'stats.lock';

describe('each variant is its prologue plus the per-CPU hold', () => {
  it('local_lock disables preemption only; local_unlock enables it', () => {
    const s = new Schedule(design([[local_lock(L), this_cpu_inc('hits'), local_unlock(L)]]));
    s.take('local_lock(&stats.lock)');
    expect([s.cpu(0, C_PREEMPT), s.cpu(0, C_IRQS_OFF), s.s[s.m.ctxOff(0) + X_HELD]]).toEqual([1, 0, 1]);
    s.run('this_cpu_inc', 'local_unlock');
    expect([s.cpu(0, C_PREEMPT), s.s[s.m.ctxOff(0) + X_HELD], s.violation()]).toEqual([0, 0, null]);
  });

  it('local_lock_irq disables irqs and leaves preemption alone; local_unlock_irq enables irqs', () => {
    const s = new Schedule(design([[local_lock_irq(L), local_unlock_irq(L)]]));
    s.take('local_lock_irq');
    expect([s.cpu(0, C_PREEMPT), s.cpu(0, C_IRQS_OFF)]).toEqual([0, 1]);
    s.take('local_unlock_irq');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0);
  });

  it('local_unlock_irqrestore restores the irq state local_lock_irqsave saved', () => {
    const s = new Schedule(design([[local_irq_disable(), local_lock_irqsave(L, 'f'), local_unlock_irqrestore(L, 'f')]]));
    s.run('local_irq_disable', 'local_lock_irqsave', 'local_unlock_irqrestore');
    expect([s.cpu(0, C_IRQS_OFF), s.taskReg('t0', 'f')]).toEqual([1, 1]);
  });
});

describe('one instance per CPU', () => {
  it('two CPUs hold their own instance at once, neither waits', () => {
    const s = new Schedule(design([[local_lock(L), local_unlock(L)], [local_lock(L), local_unlock(L)]]));
    s.run('[task t0]: local_lock', '[task t1]: local_lock');
    expect(s.violation()).toBeNull();
    expect(check(design([[local_lock(L), this_cpu_inc('hits'), local_unlock(L)], [local_lock(L), this_cpu_inc('hits'), local_unlock(L)]])).status).toBe('verified');
  });

  it('an interrupt handler taking it on the CPU where the task holds it: DEBUG_LOCKS_WARN_ON(l->owner)', () => {
    const d = design([[local_lock(L), this_cpu_inc('hits'), local_unlock(L)]], { irqs: [{ name: 'eth0', handler: [local_lock(L), this_cpu_inc('hits'), local_unlock(L)] }] });
    const v = check(d);
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('WARNING: DEBUG_LOCKS_WARN_ON(l->owner): hardirq eth0: local_lock(&stats.lock) on CPU#0, while task t0 holds it');
  });

  it('with local_lock_irq in the task, the handler never meets the owner', () => {
    const d = design([[local_lock_irq(L), this_cpu_inc('hits'), local_unlock_irq(L)]], { irqs: [{ name: 'eth0', handler: [local_lock(L), this_cpu_inc('hits'), local_unlock(L)] }] });
    expect(check(d).status).toBe('verified');
  });
});

describe('misuse', () => {
  it('taking it twice in one context warns and does not deadlock (!PREEMPT_RT)', () => {
    const v = check(design([[local_lock(L), local_lock(L)]]));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('which already holds it');
  });

  it('local_unlock without holding it: DEBUG_LOCKS_WARN_ON(l->owner != current)', () => {
    const v = check(design([[inc('x'), local_unlock(L)]]));
    expect(v.violation?.message).toContain('WARNING: DEBUG_LOCKS_WARN_ON(l->owner != current): task t0: local_unlock(&stats.lock) on CPU#0: not held on this CPU');
  });

  it('local_lock_init while holding it: held lock freed', () => {
    expect(check(design([[local_lock(L), local_lock_init(L)]])).violation?.message).toContain('WARNING: held lock freed!');
  });
});
