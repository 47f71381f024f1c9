/**
 * PREEMPT_RT (profile 6.12-rt), raw spinlocks and NMIs: the rules of
 * model/kernel/spinlock.ts, irq.ts and softirq.ts that differ by profile,
 * and the catalogue pairs B51/B57 (rt) and B20 (nmi) in both explorers.
 */
import { describe, expect, it } from 'vitest';
import {
  boundsText, check, compile, defineDesign, if_, inc, local_irq_disable, local_irq_enable, msleep, mutex_lock, mutex_unlock,
  raise_softirq, raw_spin_lock, raw_spin_unlock, read_lock, read_unlock, replay, spin_lock, spin_lock_irq, spin_unlock, spin_unlock_irq,
  write_lock, write_unlock,
  type Design, type Stmt,
} from '../../model/index.ts';
import { C_IRQS_OFF, C_NMI, C_PREEMPT } from '../../model/kernel/layout.ts';
import { PROFILE_INFO } from '../../model/kernel/flags.ts';
import { RT_DESIGNS } from '../../model/designs/rt/index.ts';
import { NMI_DESIGNS } from '../../model/designs/nmi/index.ts';
import { rtSpinLockIrqsOff612 } from '../../model/designs/rt/sleeping-spinlocks.ts';
import { Schedule } from '../helpers/schedule.ts';

const task = (name: string, cpu: number, body: readonly Stmt[]) => ({ name, cpu, body });
const design = (tasks: Design['tasks'], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'rt-nmi-rule', cpus: 1, locks: { L: 'spinlock', R: 'raw_spinlock', M: 'mutex' }, vars: { x: 0 }, tasks, ...extra,
});
const nmi = (handler: readonly Stmt[], extra: object = {}) => ({ name: 'perf', nmi: true, handler, ...extra });

describe('NMI lines (nmi_enter/nmi_exit)', () => {
  it('an NMI arrives with irqs disabled, where a maskable line does not; it runs with in_nmi() and returns to irqs off', () => {
    const d = design([task('t', 0, [local_irq_disable(), inc('x'), local_irq_enable()])], {
      irqs: [nmi([inc('x')]), { name: 'eth0', handler: [inc('x')] }],
    });
    const s = new Schedule(d).take('[task t]: local_irq_disable');
    expect(s.can('perf NMI arrives')).toBe(true);
    expect(s.can('eth0 interrupt arrives')).toBe(false);
    s.take('perf NMI arrives');
    expect(s.topName(0)).toBe('nmi perf');
    expect(s.cpu(0, C_NMI)).toBe(1);
    s.run('[nmi perf]: x++', '[nmi perf]: return');
    expect([s.cpu(0, C_NMI), s.cpu(0, C_IRQS_OFF)]).toEqual([0, 1]);
  });

  it('an NMI nests on a hardirq handler, but never on another NMI', () => {
    const d = design([], { irqs: [{ name: 'eth0', handler: [inc('x')] }, nmi([inc('x')]), nmi([inc('x')], { name: 'watchdog' })] });
    const s = new Schedule(d).take('eth0 interrupt arrives');
    expect(s.can('perf NMI arrives')).toBe(true);
    s.take('perf NMI arrives');
    expect(s.can('watchdog NMI arrives')).toBe(false);
    s.run('[nmi perf]: x++', '[nmi perf]: return');
    expect(s.can('watchdog NMI arrives')).toBe(true);
  });

  it('nmi_exit is no softirq run point: a softirq raised in the NMI waits for the next run point', () => {
    const d = design([task('t', 0, [inc('x'), inc('x')])], { irqs: [nmi([raise_softirq('NET_RX')])], softirqs: { NET_RX: [inc('x')] } });
    const s = new Schedule(d).run('perf NMI arrives', '[nmi perf]: raise_softirq', '[nmi perf]: return');
    expect(s.topName(0)).toBe('task t');
  });

  it('a spinlock_t in NMI is reported; a sleeping call in NMI is sleep-in-atomic', () => {
    const spin = check(design([task('t', 0, [inc('x')])], { irqs: [nmi([spin_lock('L'), spin_unlock('L')])] }));
    expect(spin.violation?.kind).toBe('lock-misuse');
    expect(spin.violation?.message).toContain('BUG: spin_lock(&L) in NMI context on CPU#0: a spinlock_t is not NMI-safe');
    const sleep = check(design([task('t', 0, [inc('x')])], { irqs: [nmi([mutex_lock('M'), mutex_unlock('M')])] }));
    expect(sleep.violation?.kind).toBe('sleep-in-atomic');
    expect(sleep.violation?.message).toContain('BUG: sleeping function called from invalid context');
  });

  it('a raw spinlock taken in NMI and by a task on another CPU only is no deadlock (the NMI spins until the holder unlocks)', () => {
    const d = design([task('t', 0, [raw_spin_lock('R'), inc('x'), raw_spin_unlock('R')])], {
      cpus: 2, irqs: [nmi([raw_spin_lock('R'), inc('x'), raw_spin_unlock('R')], { cpus: [1] })],
    });
    expect(check(d).status).toBe('verified');
  });

  it('irqs: nmi is checked', () => {
    expect(() => compile(design([task('t', 0, [])], { irqs: [nmi([], { nmi: 'yes' })] }))).toThrow(/irq perf: nmi must be true or false/);
  });
});

describe('B20: a raw spinlock taken in NMI and by the context it interrupts', () => {
  const [buggy, fixed] = NMI_DESIGNS;

  it('is an AA deadlock found by both explorers, with a schedule that replays; the trylock fix is verified', () => {
    const ex = check(buggy!);
    expect(ex.violation?.kind).toBe('deadlock');
    expect(ex.violation?.message).toMatch(/^AA deadlock on cpu0: nmi perf spins on a lock held by a context it interrupted \(task reader ⇄ nmi perf\)/);
    expect(ex.violation?.trace).toEqual([
      'cpu0 [task reader]: raw_spin_lock_irqsave(&R, flags)',
      'cpu0: perf NMI arrives',
      'cpu0 [nmi perf]: raw_spin_lock(&R): &R is busy, spins',
    ].slice(0, ex.violation!.trace.length));
    expect(replay(compile(buggy!), ex.violation!.choices).violation?.kind).toBe('deadlock');
    const rnd = check(buggy!, { explorer: 'random', seed: 7 });
    expect(rnd.violation?.kind).toBe('deadlock');
    expect(replay(compile(buggy!), rnd.violation!.choices).violation?.kind).toBe('deadlock');
    expect(check(fixed!).status).toBe('verified');
    expect(check(fixed!, { explorer: 'random', seed: 7 }).violation).toBeNull();
  });

  it('the trylock fails while the interrupted task holds R', () => {
    const s = new Schedule(fixed!).run('[task reader]: raw_spin_lock_irqsave', 'perf NMI arrives');
    expect(s.enabledLabels()).toContain('cpu0 [nmi perf]: raw_spin_trylock(&R) → 0 (busy)');
  });

  it("lockdep's verify_lock_unused: {INITIAL USE} -> {IN-NMI}, confirmed by the deadlock; a trylock in NMI, or a lock only NMIs take, draws nothing", () => {
    const [e, ...rest] = check(buggy!).lockdep!;
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ kind: 'inconsistent', title: 'WARNING: inconsistent lock state', classes: ['&R'], status: 'confirmed' });
    expect(e!.report).toContain('inconsistent {INITIAL USE} -> {IN-NMI} usage.');
    expect(e!.report).toContain('{INITIAL USE} state was registered at:\n  task reader[0]: raw_spin_lock_irqsave(&R, flags)');
    expect(check(fixed!).lockdep).toEqual([]);
    const nmiOnly = design([task('t', 0, [inc('x')])], { irqs: [nmi([raw_spin_lock('R'), inc('x'), raw_spin_unlock('R')])] });
    expect(check(nmiOnly).lockdep).toEqual([]);
  });
});

describe('PREEMPT_RT (profile 6.12-rt)', () => {
  const rt = (tasks: Design['tasks'], extra: Partial<Design> = {}): Design => design(tasks, { profile: '6.12-rt', ...extra });

  it('is a profile with its range; the bounds line names it; it is fully preemptible', () => {
    expect(PROFILE_INFO['6.12-rt'].flags.preemptRT).toBe(true);
    expect(PROFILE_INFO['6.12'].flags.preemptRT).toBe(false);
    const v = check(rt([task('t', 0, [inc('x')])]));
    expect(boundsText(v.bounds)).toContain('profile 6.12-rt (6.12+ PREEMPT_RT), preempt full');
    expect(() => compile(rt([task('t', 0, [])], { options: { preempt: 'none' } }))).toThrow(/PREEMPT_RT kernel is fully preemptible/);
  });

  it('a forced-threaded handler is refused with the reason; noThread and NMI lines are accepted', () => {
    expect(() => compile(rt([task('t', 0, [])], { irqs: [{ name: 'eth0', handler: [] }] }))).toThrow(/irq eth0: on PREEMPT_RT this handler is force-threaded/);
    expect(() => compile(rt([task('t', 0, [])], { irqs: [{ name: 'eth0', handler: [], flags: ['NO_THREAD'] }, nmi([])] }))).not.toThrow();
  });

  it('spin_lock does not disable preemption: the holder may be preempted, and a contender sleeps until the unlock', () => {
    const d = rt([task('a', 0, [spin_lock('L'), inc('x'), spin_unlock('L')]), task('b', 0, [spin_lock('L'), inc('x'), spin_unlock('L')])]);
    const s = new Schedule(d).run('schedule() → task a', '[task a]: spin_lock(&L)');
    expect(s.cpu(0, C_PREEMPT)).toBe(0);
    s.take('preempt: task a → task b');
    s.take('[task b]: spin_lock(&L): &L is held by task a: sleeps (rt_mutex, PREEMPT_RT)');
    s.run('schedule() → task a', '[task a]: x++', '[task a]: spin_unlock(&L)', '[task a]: return', 'schedule() → task b', '[task b]: spin_lock(&L)');
    expect(s.lock('L')).toBe(s.p.tasks.findIndex((t) => t.name === 'b') + 1);
    // Two CPUs, one order: no deadlock; an ABBA of sleeping locks is still one.
    expect(check(d).status).toBe('verified');
  });

  it('an ABBA of sleeping locks is a deadlock with its wait-for cycle', () => {
    const d = rt([task('a', 0, [spin_lock('L'), spin_lock('K'), spin_unlock('K'), spin_unlock('L')]), task('b', 1, [spin_lock('K'), spin_lock('L'), spin_unlock('L'), spin_unlock('K')])], {
      cpus: 2, locks: { L: 'spinlock', K: 'spinlock' },
    });
    const v = check(d);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('sleeps (rt_mutex, PREEMPT_RT)');
    expect(check(d, { explorer: 'random', seed: 3 }).violation?.kind).toBe('deadlock');
  });

  it('a reader of an rwlock_t that sleeps on another lock still holds it: read_lock/spin_lock against spin_lock/write_lock is a deadlock naming the reader', () => {
    const d = rt([
      task('reader', 0, [read_lock('A'), spin_lock('B'), inc('x'), spin_unlock('B'), read_unlock('A')]),
      task('writer', 1, [spin_lock('B'), write_lock('A'), inc('x'), write_unlock('A'), spin_unlock('B')]),
    ], { cpus: 2, locks: { A: 'rwlock', B: 'spinlock' } });
    const v = check(d);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.trace).toContain('cpu1 [task writer]: write_lock(&A): &A is held by task reader: sleeps (rt_mutex, PREEMPT_RT)');
    expect(v.violation?.message).toContain('&A is held by task reader');
    // A reader preempted while it holds the lock is a holder too: the writer's label names it.
    const one = rt([
      task('reader', 0, [read_lock('A'), inc('x'), read_unlock('A')]),
      task('writer', 0, [write_lock('A'), inc('x'), write_unlock('A')]),
    ], { locks: { A: 'rwlock' } });
    const s = new Schedule(one).run('schedule() → task reader', '[task reader]: read_lock(&A)');
    s.take('preempt: task reader → task writer');
    s.take('[task writer]: write_lock(&A): &A is held by task reader: sleeps (rt_mutex, PREEMPT_RT)');
  });

  it('spin_lock_irq leaves irqs on (a noThread line may arrive inside); raw_spin_lock still spins and disables preemption', () => {
    const d = rt([task('t', 0, [spin_lock_irq('L'), inc('x'), spin_unlock_irq('L')])], { irqs: [{ name: 'eth0', handler: [inc('x')], flags: ['NO_THREAD'] }] });
    const s = new Schedule(d).take('[task t]: spin_lock_irq(&L)');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0);
    expect(s.can('eth0 interrupt arrives')).toBe(true);
    const raw = new Schedule(rt([task('t', 0, [raw_spin_lock('R'), inc('x'), raw_spin_unlock('R')])])).take('[task t]: raw_spin_lock(&R)');
    expect(raw.cpu(0, C_PREEMPT)).toBe(1);
  });

  it('spin_lock with a preempt count, irqs off or in hardirq is "sleeping function called from invalid context", contended or not', () => {
    const inIrq = check(rt([task('t', 0, [inc('x')])], { irqs: [{ name: 'eth0', handler: [spin_lock('L'), spin_unlock('L')], flags: ['NO_THREAD'] }] }));
    expect(inIrq.violation?.kind).toBe('sleep-in-atomic');
    expect(inIrq.violation?.message).toMatch(/BUG: sleeping function called from invalid context at irq eth0\[0\]\nin_atomic\(\): 1, irqs_disabled\(\): 1/);
    expect(inIrq.violation?.message).toContain('spin_lock(&L) (PREEMPT_RT: a sleeping rt_mutex lock, rtlock_might_resched) in hardirq context');
    // The same handler on 6.12 !RT is fine.
    expect(check({ ...rt([task('t', 0, [inc('x')])], { irqs: [{ name: 'eth0', handler: [spin_lock('L'), spin_unlock('L')], flags: ['NO_THREAD'] }] }), profile: '6.12' }).status).toBe('verified');
  });

  it('msleep or mutex_lock under spin_lock is still a bug on RT: the RT spinlock holds rcu_read_lock, which __might_resched does not allow', () => {
    const v = check(rt([task('t', 0, [spin_lock('L'), msleep(1), spin_unlock('L')])]));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toContain('in_atomic(): 0, irqs_disabled(): 0');
    expect(v.violation?.message).toContain('RCU nest depth: 1, expected: 0 (PREEMPT_RT: each held spinlock_t/rwlock_t holds rcu_read_lock)');
    expect(check(rt([task('t', 0, [spin_lock('L'), mutex_lock('M'), mutex_unlock('M'), spin_unlock('L')])])).violation?.kind).toBe('sleep-in-atomic');
    // A nested RT spinlock is fine (rtlock_might_resched allows the caller's RCU depth).
    expect(check(rt([task('t', 0, [spin_lock('L'), spin_lock('K'), spin_unlock('K'), spin_unlock('L')])], { locks: { L: 'spinlock', K: 'spinlock' } })).status).toBe('verified');
  });

  it('softirqs never run at irq_exit: ksoftirqd runs them; a softirq that would sleep on a held spinlock_t ends bounded-out, named', () => {
    const d = rt([task('t', 0, [spin_lock('L'), inc('x'), spin_unlock('L')])], {
      irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')], flags: ['NO_THREAD'] }], softirqs: { NET_RX: [spin_lock('L'), inc('x'), spin_unlock('L')] },
    });
    const s = new Schedule(d).run('[task t]: spin_lock(&L)', 'eth0 interrupt arrives', '[hardirq eth0]: raise_softirq', '[hardirq eth0]: return');
    expect(s.topName(0)).toBe('task t');
    expect(s.can('ksoftirqd/0 runs pending softirqs NET_RX')).toBe(true);
    // On 6.12 !RT the same design is B2's AA deadlock at irq_exit.
    expect(check({ ...d, profile: '6.12' }).violation?.kind).toBe('deadlock');
    const v = check(d);
    expect(v.status).toBe('bounded-out');
    expect(v.boundedOut).toContain('PREEMPT_RT softirqs and handlers that sleep on a held spinlock_t');
  });

  it('trylocks never sleep on RT: spin_trylock of a held lock fails', () => {
    const d = rt([task('a', 0, [spin_lock('L'), inc('x'), spin_unlock('L')]), task('b', 0, [if_({ trylock: 'spin_trylock', lock: 'L' }, [spin_unlock('L')], [])])]);
    const s = new Schedule(d).run('schedule() → task a', '[task a]: spin_lock(&L)', 'preempt: task a → task b');
    expect(s.enabledLabels()).toContain('cpu0 [task b]: spin_trylock(&L) → 0 (busy)');
  });
});

describe('the catalogue\'s RT pairs: the same code on 6.12 and 6.12 PREEMPT_RT', () => {
  const byName = (name: string): Design => [...RT_DESIGNS, rtSpinLockIrqsOff612].find((d) => d.name === name)!;

  it.each([
    ['rt-spin-lock-irqs-off', 'sleep-in-atomic', 'BUG: sleeping function called from invalid context at task driver[1]'],
    ['rt-spin-lock-under-raw', 'sleep-in-atomic', 'spin_lock(&L) (PREEMPT_RT: a sleeping rt_mutex lock, rtlock_might_resched) with &R held'],
    ['bh-under-irqsave-v6_12', 'bad-bh-enable', '__local_bh_enable_ip: spin_unlock_bh(&B) with irqs disabled'],
  ] as const)('%s: %s in both explorers, with a schedule that replays', (name, kind, text) => {
    const d = byName(name);
    for (const explorer of ['exhaustive', 'random'] as const) {
      const v = check(d, { explorer, seed: 11 });
      expect(v.violation?.kind).toBe(kind);
      expect(v.violation?.message).toContain(text);
      expect(replay(compile(d), v.violation!.choices).violation?.kind).toBe(kind);
    }
  });

  it.each(['rt-spin-lock-irqsave', 'rt-spin-lock-under-raw-v6_12', 'bh-under-irqsave-rt', 'rt-spin-lock-irqs-off-v6_12'])('%s is verified exhaustively, and the random explorer finds nothing', (name) => {
    const d = byName(name);
    expect(check(d).status).toBe('verified');
    expect(check(d, { explorer: 'random', seed: 11 }).violation).toBeNull();
  });

  it('verdicts differ by profile only in the designs whose kernels differ', () => {
    expect(check({ ...byName('rt-spin-lock-irqs-off'), profile: '6.12' }).status).toBe('verified');
    expect(check({ ...byName('rt-spin-lock-irqsave'), profile: '6.12' }).status).toBe('verified');
    expect(check({ ...byName('bh-under-irqsave-rt'), profile: '6.12' }).violation?.kind).toBe('bad-bh-enable');
    for (const d of NMI_DESIGNS) expect(check({ ...d, profile: '6.12-rt' }).status).toBe(check(d).status);
  });
});
