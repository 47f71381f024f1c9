/**
 * model/kernel/irq.ts, "Irq lines" (kernel/irq/manage.c): request_irq,
 * request_threaded_irq, free_irq, disable_irq(_nosync), enable_irq,
 * synchronize_irq/synchronize_hardirq, threaded handlers and IRQF_ONESHOT.
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, disable_irq, disable_irq_nosync, enable_irq, free_irq, inc, kfree, mutex_lock, mutex_unlock, request_irq,
  request_threaded_irq, spin_lock, spin_unlock, synchronize_hardirq, synchronize_irq, type Design, type IrqSpec, type Stmt, type TaskSpec,
} from '../../model/index.ts';
import { I_DEPTH, I_STATE, I_THREADS, IRQ_ONESHOT_MASKED, IRQ_REQUESTED } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (irqs: readonly IrqSpec[], tasks: readonly TaskSpec[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'irq-lines', cpus: 2, locks: { M: 'mutex', L: 'spinlock' }, vars: { 'p->n': 0, t: 0 }, structs: { p: { members: ['p->n'] } },
  irqs, tasks, ...extra,
});
const line = (s: Schedule, name: string, field: number): number => s.s[s.m.irqOff(s.p.irqs.findIndex((l) => l.name === name)) + field]!;
const task = (body: readonly Stmt[], name = 'drv', cpu = 1): TaskSpec => ({ name, cpu, body });
const dev = (extra: Partial<IrqSpec> = {}): IrqSpec => ({ name: 'dev', cpus: [0], handler: [inc('p->n')], ...extra });

describe('request_irq', () => {
  it('a line declared start: request_irq does not fire until requested, then may fire at once', () => {
    const s = new Schedule(design([dev({ start: 'request_irq' })], [task([request_irq('dev')])]));
    expect(s.can('dev interrupt arrives')).toBe(false);
    s.take('request_irq(dev): installed, dev may fire from now on');
    expect(line(s, 'dev', I_STATE) & IRQ_REQUESTED).toBe(IRQ_REQUESTED);
    expect(s.can('dev interrupt arrives')).toBe(true);
  });

  it('IRQF_NO_AUTOEN leaves it disabled (depth 1) until enable_irq', () => {
    const s = new Schedule(design([dev({ start: 'request_irq', flags: ['NO_AUTOEN'] })], [task([request_irq('dev'), enable_irq('dev')])]));
    s.take('request_irq(dev): installed, left disabled (IRQF_NO_AUTOEN)');
    expect([line(s, 'dev', I_DEPTH), s.can('dev interrupt arrives')]).toEqual([1, false]);
    s.take('enable_irq(dev): depth 1 → 0, dev may fire again');
    expect(s.can('dev interrupt arrives')).toBe(true);
  });

  it('request_irq sleeps (the request mutex): under a spinlock it sleeps in atomic context', () => {
    expect(check(design([dev({ start: 'request_irq' })], [task([spin_lock('L'), request_irq('dev'), spin_unlock('L')])])).violation?.kind).toBe('sleep-in-atomic');
  });

  it('requesting a line already requested: "genirq: Flags mismatch"', () => {
    expect(check(design([dev()], [task([request_irq('dev')])])).violation?.message).toContain('genirq: Flags mismatch');
  });
});

describe('free_irq', () => {
  it('stops the line and waits for its handler running on another CPU before returning', () => {
    const s = new Schedule(design([dev({ handler: [inc('p->n'), inc('t')] })], [task([free_irq('dev'), kfree('p')])]));
    s.run('dev interrupt arrives', 'p->n++');
    s.take('free_irq(dev): dev\'s handler runs on cpu0, spins');
    expect(s.can('[task drv]')).toBe(false);
    s.run('t++', '[hardirq dev]: return');
    s.take('[task drv]: free_irq(dev)');
    expect(s.can('dev interrupt arrives')).toBe(false);
  });

  it('so free_irq then kfree is safe, kfree then free_irq is a use-after-free', () => {
    expect(check(design([dev()], [task([free_irq('dev'), kfree('p')])])).status).toBe('verified');
    expect(check(design([dev()], [task([kfree('p'), free_irq('dev')])])).violation?.kind).toBe('use-after-free');
  });

  it('from interrupt context: "Trying to free IRQ … from IRQ context!"', () => {
    const v = check(design([dev({ handler: [free_irq('other')] }), { name: 'other', cpus: [1], handler: [] }], [task([])]));
    expect(v.violation?.message).toContain('from IRQ context!');
  });

  it('twice: "Trying to free already-free IRQ"', () => {
    expect(check(design([dev()], [task([free_irq('dev'), free_irq('dev')])])).violation?.message).toContain('Trying to free already-free IRQ');
  });
});

describe('disable_irq, disable_irq_nosync, enable_irq', () => {
  it('disable_irq_nosync raises the depth and the line stops firing; it does not wait', () => {
    const s = new Schedule(design([dev()], [task([disable_irq_nosync('dev'), enable_irq('dev')])]));
    s.run('dev interrupt arrives');
    s.take('disable_irq_nosync(dev): depth 0 → 1');
    expect(line(s, 'dev', I_DEPTH)).toBe(1);
  });

  it('disable_irq waits for a running handler (synchronize_irq)', () => {
    const s = new Schedule(design([dev()], [task([disable_irq('dev'), enable_irq('dev')])]));
    s.take('dev interrupt arrives');
    s.take('disable_irq(dev): dev\'s handler runs on cpu0, spins');
    expect(s.can('[task drv]')).toBe(false);
  });

  it('disable_irq in the line\'s own handler: might_sleep (6.2+) reports it', () => {
    expect(check(design([dev({ handler: [disable_irq('dev')] })], [task([])])).violation?.kind).toBe('sleep-in-atomic');
  });

  it('disable_irq_nosync from the handler is fine; depth nests', () => {
    const s = new Schedule(design([dev()], [task([disable_irq_nosync('dev'), disable_irq_nosync('dev'), enable_irq('dev'), enable_irq('dev')])]));
    s.run('depth 0 → 1', 'depth 1 → 2', 'enable_irq(dev): depth 2 → 1');
    expect(s.can('dev interrupt arrives')).toBe(false);
    s.take('enable_irq(dev): depth 1 → 0, dev may fire again');
  });

  it('an unbalanced enable_irq: "Unbalanced enable for IRQ"; before request: "enable_irq before setup/request_irq"', () => {
    expect(check(design([dev()], [task([enable_irq('dev')])])).violation?.message).toContain('Unbalanced enable for IRQ');
    expect(check(design([dev({ start: 'request_irq' })], [task([enable_irq('dev')])])).violation?.message).toContain('enable_irq before setup/request_irq');
  });
});

describe('synchronize_irq and synchronize_hardirq', () => {
  it('synchronize_irq waits for the handler and for the thread function', () => {
    const threaded = dev({ handler: undefined, thread: [inc('p->n')], flags: ['ONESHOT'] });
    expect(check(design([threaded], [task([synchronize_irq('dev')])])).status).toBe('verified');
    const s = new Schedule(design([threaded], [task([synchronize_irq('dev')])]));
    s.run('dev interrupt arrives', '[hardirq dev]: return');
    expect(line(s, 'dev', I_THREADS)).toBe(1);
    s.take('synchronize_irq(dev): dev\'s thread function is running or due, sleeps');
  });

  it('synchronize_hardirq only waits for the hardirq and returns whether no thread is active', () => {
    const s = new Schedule(design([dev({ handler: undefined, thread: [inc('p->n')], flags: ['ONESHOT'] })], [task([synchronize_hardirq('dev', 'idle')])]));
    s.run('dev interrupt arrives', '[hardirq dev]: return', 'synchronize_hardirq(dev)');
    expect(s.taskReg('drv', 'idle')).toBe(0);
  });

  it('waiting for a handler that needs a lock the waiter holds deadlocks (B32)', () => {
    const v = check(design([dev({ handler: [spin_lock('L'), spin_unlock('L')] })], [task([spin_lock('L'), synchronize_hardirq('dev'), spin_unlock('L')])]));
    expect(v.violation?.kind).toBe('deadlock');
  });
});

describe('threaded handlers (request_threaded_irq)', () => {
  const threaded = (body: readonly Stmt[], extra: Partial<IrqSpec> = {}): IrqSpec => ({ name: 'ts', cpus: [0], thread: body, flags: ['ONESHOT'], ...extra });

  it('the thread function runs in the irq/N-name kernel thread, in task context, and may sleep', () => {
    const s = new Schedule(design([threaded([mutex_lock('M'), inc('t'), mutex_unlock('M')])], [task([])]));
    s.run('ts interrupt arrives', '[hardirq ts]: return');
    s.take('schedule() → task irq/0-ts');
    s.take('irq_thread: IRQTF_RUNTHREAD: run ts\'s thread function');
    s.take('[task irq/0-ts]: mutex_lock');
    expect(check(design([threaded([mutex_lock('M'), inc('t'), mutex_unlock('M')])], [task([])])).status).toBe('verified');
  });

  it('IRQF_ONESHOT keeps the line masked until the thread function has returned', () => {
    const s = new Schedule(design([threaded([inc('t')])], [task([])]));
    s.run('ts interrupt arrives', '[hardirq ts]: return');
    expect(line(s, 'ts', I_STATE) & IRQ_ONESHOT_MASKED).toBe(IRQ_ONESHOT_MASKED);
    expect(s.can('ts interrupt arrives')).toBe(false);
    s.runToEnd(['irq/0-ts']);
    expect(s.labels.some((l) => l.includes('irq_finalize_oneshot unmasks the line'))).toBe(true);
  });

  it('a thread function that returns with a lock held is reported', () => {
    expect(check(design([threaded([mutex_lock('M')])], [task([])])).violation?.kind).toBe('lock-leak');
  });

  it('request_threaded_irq starts a line declared with start: request_irq and a thread', () => {
    const s = new Schedule(design([threaded([inc('t')], { start: 'request_irq' })], [task([request_threaded_irq('ts')])]));
    expect(s.can('ts interrupt arrives')).toBe(false);
    s.take('request_threaded_irq(ts)');
    expect(s.can('ts interrupt arrives')).toBe(true);
  });

  it('a threaded line without a primary handler needs IRQF_ONESHOT; a thread under 2.4 is a design error', () => {
    expect(() => compile(design([{ name: 'ts', cpus: [0], thread: [inc('t')] }], [task([])]))).toThrow(/ONESHOT/);
    expect(() => compile(design([threaded([inc('t')])], [task([])], { profile: '2.4' }))).toThrow(/arrived in 2.6.30/);
  });
});
