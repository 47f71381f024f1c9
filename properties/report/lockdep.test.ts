/**
 * Lockdep's reports, in the kernel's exact words and layout
 * (shared/lockdep-selftests.md §4.4): the headers and their separator
 * widths, the usage notation, the task bracket, the scenario diagrams.
 */
import { describe, expect, it } from 'vitest';
import {
  compile, defineDesign, inc, Machine, mutex_lock, spin_lock, spin_lock_irq, spin_unlock, spin_unlock_irq, type Design,
} from '../../model/index.ts';
import { catalogueDesign } from '../../model/designs/index.ts';
import { lockdepFindings, lockdepReport } from '../../model/report/lockdep.ts';
import { check } from '../../model/index.ts';
import { Schedule } from '../helpers/schedule.ts';
import { counterexample, linesFrom } from './counterexamples.ts';

const report = (name: string): string => {
  const cx = counterexample(name);
  const text = lockdepReport(cx.program, cx.violation.choices, cx.violation);
  if (text === null) throw new Error(`no lockdep report for ${name}`);
  return text;
};

/** The first five lines: blank, `=` row, header, identity, `-` row. */
function expectHeader(text: string, title: string, width = title.length): void {
  const lines = text.split('\n');
  expect(lines[0]).toBe('');
  expect(lines[1]).toBe('='.repeat(width));
  expect(lines[2]).toBe(title);
  expect(lines[3]).toMatch(/^kdefer model of .+, not a kernel$/);
  expect(lines[4]).toBe('-'.repeat(width));
}

const COL = ' '.repeat(31);

describe('inconsistent lock state', () => {
  it('B1: {HARDIRQ-ON-W} -> {IN-HARDIRQ-W}, taken in hardirq, with the <Interrupt> scenario', () => {
    const text = report('task-vs-hardirq-spin_lock');
    expectHeader(text, 'WARNING: inconsistent lock state', 32);
    expect(text.split('\n').slice(5, 10)).toEqual([
      'inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.',
      'ethtool/1 [HC1[1]:SC0[0]:HE0:SE1] takes:',
      '(&priv->lock){?.+.}-{3:3}, at: irq eth0[0]: spin_lock(&priv->lock)',
      '{HARDIRQ-ON-W} state was registered at:',
      '  step 1: cpu0 [task ethtool]: spin_lock(&priv->lock)',
    ]);
    expect(linesFrom(text, ' Possible unsafe locking scenario:', 13)).toEqual([
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      '  lock(&priv->lock);',
      '  <Interrupt>',
      '    lock(&priv->lock);',
      '',
      ' *** DEADLOCK ***',
      '',
      '1 lock held by ethtool/1:',
      ' #0: (&priv->lock){?.+.}-{3:3}, at: task ethtool[0]: spin_lock(&priv->lock)',
      '',
    ]);
    expect(text).toContain('hardirqs last disabled at (1): step 2: cpu0: eth0 interrupt arrives\n');
    expect(text).toContain('\nstack backtrace:\n');
  });

  it('B2: the SOFTIRQ variant, taken while serving a softirq', () => {
    const text = report('task-vs-softirq-spin_lock');
    expectHeader(text, 'WARNING: inconsistent lock state', 32);
    expect(text).toContain('\ninconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.\nethtool/1 [HC0[0]:SC1[1]:HE1:SE0] takes:\n(&priv->lock){+.?.}-{3:3}, at: softirq NET_RX[0]: spin_lock(&priv->lock)\n');
    expect(text).toContain('  lock(&priv->lock);\n  <Interrupt>\n    lock(&priv->lock);\n\n *** DEADLOCK ***\n');
  });

  it('B4: HARDIRQ-ON-W registered where the nested spin_unlock_irq turned irqs on under the outer lock', () => {
    const text = report('nested-spin_unlock_irq-under-irqsave');
    expect(text).toContain('inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.');
    expect(text).toMatch(/\{HARDIRQ-ON-W\} state was registered at:\n {2}step \d+: cpu0 \[task config\]: spin_unlock_irq\(&B\)\n/);
    expect(text).toContain(' #0: (&A){?.+.}-{3:3}, at: task config[0]: spin_lock_irqsave(&A, flags)');
  });
});

describe('circular locking dependency', () => {
  it('ABBA: the chain in reverse order and the two-column scenario', () => {
    const text = report('abba-spin_lock');
    expectHeader(text, 'WARNING: possible circular locking dependency detected', 54);
    expect(text).toContain('\nmover1/2 is trying to acquire lock:\n(&A){+.+.}-{3:3}, at: task mover1[1]: spin_lock(&A)\n\nbut task is already holding lock:\n(&B){+.+.}-{3:3}, at: task mover1[0]: spin_lock(&B)\n\nwhich lock already depends on the new lock.\n');
    expect(linesFrom(text, 'the existing dependency chain (in reverse order) is:', 8)).toEqual([
      'the existing dependency chain (in reverse order) is:',
      '',
      '-> #1 (&B){+.+.}-{3:3}:',
      '       step 3: cpu0 [task mover0]: spin_lock(&B): &B is busy, spins',
      '',
      '-> #0 (&A){+.+.}-{3:3}:',
      '       step 4: cpu1 [task mover1]: spin_lock(&A): &A is busy, spins',
      '',
    ]);
    expect(text).not.toContain('Chain exists of:');
    expect(linesFrom(text, ' Possible unsafe locking scenario:', 11)).toEqual([
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      '  lock(&A);',
      `${COL}lock(&B);`,
      '  lock(&B);',
      `${COL}lock(&A);`,
      '',
      ' *** DEADLOCK ***',
      '',
    ]);
  });

  it('mutex ABBA: sleeping locks, wait type {4:4}', () => {
    const text = report('mutex-abba');
    expectHeader(text, 'WARNING: possible circular locking dependency detected', 54);
    expect(text).toContain('-> #1 (&dev->mutex){+.+.}-{4:4}:');
    expect(text).toContain('-> #0 (&rtnl_mutex){+.+.}-{4:4}:');
  });

  it('a three-lock cycle: Chain exists of, and lockdep\'s abstract scenario', () => {
    const nest = (a: string, b: string) => [spin_lock(a), spin_lock(b), spin_unlock(b), spin_unlock(a)];
    const design = defineDesign({
      name: 'abc', cpus: 3, locks: { A: 'spinlock', B: 'spinlock', C: 'spinlock' },
      tasks: [{ name: 't0', cpu: 0, body: nest('A', 'B') }, { name: 't1', cpu: 1, body: nest('B', 'C') }, { name: 't2', cpu: 2, body: nest('C', 'A') }],
    });
    const v = check(design).violation!;
    const text = lockdepReport(compile(design), v.choices, v)!;
    expect(text).toContain('\nChain exists of:\n  &A --> &B --> &C\n');
    expect(text).toContain('-> #2 (&C){+.+.}-{3:3}:');
    expect(linesFrom(text, '       CPU0                    CPU1', 6)).toEqual([
      '       CPU0                    CPU1',
      '       ----                    ----',
      '  lock(&C);',
      `${COL}lock(&B);`,
      `${COL}lock(&C);`,
      '  lock(&A);',
    ]);
  });
});

describe('irq-safe -> irq-unsafe', () => {
  it('B6: HARDIRQ-safe -> HARDIRQ-unsafe lock order, with the interrupt scenario', () => {
    const text = report('irq-safe-to-unsafe-spin_lock');
    expectHeader(text, 'WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected', 53);
    expect(text).toContain([
      'config/2 [HC0[0]:SC0[0]:HE0:SE1] is trying to acquire:',
      '(&B){+.+.}-{3:3}, at: task config[1]: spin_lock(&B)',
      '',
      'and this task is already holding:',
      '(&A){-...}-{3:3}, at: task config[0]: spin_lock_irq(&A)',
      'which would create a new lock dependency:',
      ' (&A){-...}-{3:3} -> (&B){+.+.}-{3:3}',
      '',
      'but this new dependency connects a HARDIRQ-irq-safe lock:',
      ' (&A){-...}-{3:3}',
      '',
      '... which became HARDIRQ-irq-safe at:',
    ].join('\n'));
    expect(text).toContain('\nto a HARDIRQ-irq-unsafe lock:\n (&B){+.+.}-{3:3}\n\n... which became HARDIRQ-irq-unsafe at:\n...\n  step 1: cpu0 [task stats]: spin_lock(&B)\n');
    expect(linesFrom(text, ' Possible interrupt unsafe locking scenario:', 13)).toEqual([
      ' Possible interrupt unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      '  lock(&B);',
      `${COL}local_irq_disable();`,
      `${COL}lock(&A);`,
      `${COL}lock(&B);`,
      '  <Interrupt>',
      '    lock(&A);',
      '',
      ' *** DEADLOCK ***',
      '',
    ]);
    expect(text).toContain('\nthe dependencies between HARDIRQ-irq-safe lock and the holding lock:\n-> (&A){-...}-{3:3} {\n   IN-HARDIRQ-W at:\n');
    expect(text).toContain('\nthe dependencies between the lock to be acquired and HARDIRQ-irq-unsafe lock:\n-> (&B){+.+.}-{3:3} {\n   HARDIRQ-ON-W at:\n');
  });

  it("a class block lists every usage bit below the kernel's LOCK_TRACE_STATES, INITIAL USE included, in the counterexample's report and in the prediction's", () => {
    const block = (text: string, title: string): string[] => linesFrom(text, title, 8);
    const title = 'the dependencies between HARDIRQ-irq-safe lock and the holding lock:';
    const cx = block(report('irq-safe-to-unsafe-spin_lock'), title);
    expect(cx).toEqual([
      title,
      '-> (&A){-...}-{3:3} {',
      '   IN-HARDIRQ-W at:',
      '      step 4: cpu0 [hardirq eth0]: spin_lock(&A): &A is busy, spins',
      '   INITIAL USE at:',
      '      step 3: cpu1 [task config]: spin_lock_irq(&A)',
      ' }',
      " ... key      at: lock 'A' of the design",
    ]);
    const predicted = check(catalogueDesign('irq-safe-to-unsafe-spin_lock')!).lockdep!.find((e) => e.kind === 'bad-irq-dependency')!;
    expect(block(predicted.report, title)).toEqual([
      title,
      '-> (&A){-...}-{3:3} {',
      '   IN-HARDIRQ-W at:',
      '      irq eth0[0]: spin_lock(&A) (hardirq eth0, cpu0)',
      '   INITIAL USE at:',
      '      irq eth0[0]: spin_lock(&A) (hardirq eth0, cpu0)',
      ' }',
      " ... key      at: class 'A' of the design",
    ]);
  });

  it('irq lock inversion: the A -> B order recorded first, A made HARDIRQ-safe later', () => {
    const design = defineDesign({
      name: 'inversion', cpus: 2, locks: { A: 'spinlock', B: 'spinlock' }, vars: { n: 0 },
      tasks: [
        { name: 'stats', cpu: 0, body: [spin_lock('B'), inc('n'), spin_unlock('B')] },
        { name: 'config', cpu: 1, body: [spin_lock_irq('A'), spin_lock('B'), inc('n'), spin_unlock('B'), spin_unlock_irq('A')] },
      ],
      irqs: [{ name: 'eth0', cpus: [0], handler: [spin_lock('A'), inc('n'), spin_unlock('A')], budget: 1 }],
    });
    const s = new Schedule(design);
    for (const step of ['spin_lock_irq(&A)', 'config]: spin_lock(&B)', 'config]: n++', 'spin_unlock(&B)', 'spin_unlock_irq(&A)', 'stats]: spin_lock(&B)', 'eth0 interrupt', 'eth0]: spin_lock(&A)']) s.take(step);
    const findings = lockdepFindings(s.p, s.choices);
    expect(findings).toHaveLength(1);
    const text = findings[0]!;
    expectHeader(text, 'WARNING: possible irq lock inversion dependency detected', 56);
    expect(text).toContain('\nstats/1 just changed the state of lock:\n(&A){-...}-{3:3}, at: irq eth0[0]: spin_lock(&A)\nbut this lock took another, HARDIRQ-unsafe lock in the past:\n (&B){+.+.}-{3:3}\n\n\nand interrupts could create inverse lock ordering between them.\n');
    expect(text).toContain(`  lock(&B);\n${COL}local_irq_disable();\n${COL}lock(&A);\n${COL}lock(&B);\n  <Interrupt>\n    lock(&A);\n`);
    // A 'lockdep' violation takes lockdep's first finding.
    expect(lockdepReport(s.p, s.choices, { kind: 'lockdep', message: '', cpu: 0, context: '' })).toBe(text);
  });
});

describe('misuse', () => {
  const misuse = (design: Design): string => {
    const v = check(design).violation!;
    expect(v.kind).toBe('lock-misuse');
    return lockdepReport(compile(design), v.choices, v)!;
  };
  /** Same-context recursion is a deadlock found at the second acquisition, and lockdep's recursion report. */
  const recursion = (design: Design): string => {
    const v = check(design).violation!;
    expect(v.kind).toBe('deadlock');
    return lockdepReport(compile(design), v.choices, v)!;
  };

  it('rwlock read recursion in task context (queued rwlock): possible recursive locking', () => {
    const text = report('rwlock-read-recursion-task');
    expectHeader(text, 'WARNING: possible recursive locking detected', 44);
    expect(text).toContain('\nlookup/1 is trying to acquire lock:\n(&L){++++}-{3:3}, at: task lookup[1]: read_lock(&L)\n\nbut task is already holding lock:\n(&L){++++}-{3:3}, at: task lookup[0]: read_lock(&L)\n');
    expect(text).toContain('       CPU0\n       ----\n  rlock(&L);\n  rlock(&L);\n\n *** DEADLOCK ***\n\n May be due to missing lock nesting notation\n');
  });

  it('spin_lock twice: possible recursive locking', () => {
    const text = recursion(defineDesign({ name: 'twice', cpus: 1, locks: { A: 'spinlock' }, tasks: [{ name: 'x', cpu: 0, body: [spin_lock('A'), spin_lock('A')] }] }));
    expectHeader(text, 'WARNING: possible recursive locking detected', 44);
    expect(text).toContain('  lock(&A);\n  lock(&A);\n');
  });

  it('mutex_lock twice: possible recursive locking', () => {
    const text = recursion(defineDesign({ name: 'twice-mutex', cpus: 1, locks: { M: 'mutex' }, tasks: [{ name: 'x', cpu: 0, body: [mutex_lock('M'), mutex_lock('M')] }] }));
    expectHeader(text, 'WARNING: possible recursive locking detected', 44);
    expect(text).toContain('(&M){+.+.}-{4:4}, at: task x[1]: mutex_lock(&M)');
  });

  it('an unlock of a lock not held: bad unlock balance', () => {
    const text = misuse(defineDesign({ name: 'unbalanced', cpus: 1, locks: { A: 'spinlock' }, tasks: [{ name: 'x', cpu: 0, body: [spin_unlock('A')] }] }));
    expectHeader(text, 'WARNING: bad unlock balance detected!', 37);
    expect(text.split('\n').slice(5, 12)).toEqual([
      'x/1 is trying to release lock (&A) at:',
      'task x[0]: spin_unlock(&A)',
      'but there are no more locks to release!',
      '',
      'other info that might help us debug this:',
      'no locks held by x/1.',
      '',
    ]);
  });
});

describe('no report', () => {
  it('is null where lockdep has nothing to say', () => {
    for (const name of ['mutex_lock-under-spin_lock', 'sleep_on-lost-wakeup', 'napi_schedule-from-task', 'msleep-with-bh-disabled']) {
      const cx = counterexample(name);
      expect(lockdepReport(cx.program, cx.violation.choices, cx.violation), name).toBeNull();
    }
  });

  /** Deterministic walks: at step i of walk w take enabled choice (w * 7 + i * 3) mod n. */
  const walks = (name: string): { p: ReturnType<typeof compile>; choices: number[] }[] => {
    const p = compile(catalogueDesign(name)!);
    const m = new Machine(p);
    return Array.from({ length: 24 }, (_, walk) => {
      let s = m.initial();
      const choices: number[] = [];
      for (let i = 0; i < 200; i++) {
        const en = m.enabled(s);
        if (en.length === 0) break;
        const c = en[(walk * 7 + i * 3) % en.length]!;
        choices.push(c);
        s = m.step(s, c);
      }
      return { p, choices };
    });
  };
  const TWINS = [
    ['task-vs-hardirq-spin_lock', 'task-vs-hardirq-spin_lock_irqsave'],
    ['task-vs-softirq-spin_lock', 'task-vs-softirq-spin_lock_bh'],
    ['abba-spin_lock', 'abba-ordered'],
    ['irq-safe-to-unsafe-spin_lock', 'irq-safe-to-unsafe-spin_lock_irqsave'],
  ] as const;

  it('finds nothing on any walk of the fixed twins of B1, B2, B5 and B6, and something on some walk of the buggy ones', () => {
    for (const [buggy, fixed] of TWINS) {
      for (const [i, w] of walks(fixed).entries()) expect(lockdepFindings(w.p, w.choices), `${fixed} walk ${i}`).toEqual([]);
      expect(walks(buggy).some((w) => lockdepFindings(w.p, w.choices).length > 0), buggy).toBe(true);
    }
  });

  it('is deterministic', () => {
    expect(report('irq-safe-to-unsafe-spin_lock')).toBe(report('irq-safe-to-unsafe-spin_lock'));
  });
});

describe('lock held when returning to user space', () => {
  it('a task that finishes holding a lock', () => {
    const design = defineDesign({ name: 'leaky', cpus: 1, locks: { A: 'spinlock' }, tasks: [{ name: 'x', cpu: 0, body: [spin_lock('A')] }] });
    const v = check(design).violation!;
    expect(v.kind).toBe('lock-leak');
    const text = lockdepReport(compile(design), v.choices, v)!;
    expectHeader(text, 'WARNING: lock held when returning to user space!', 48);
    expect(text.split('\n').slice(5)).toEqual([
      'x/1 is leaving the kernel with locks still held!',
      '1 lock held by x/1:',
      ' #0: (&A){+.+.}-{3:3}, at: task x[0]: spin_lock(&A)',
      '',
    ]);
  });

  it('is not lockdep\'s for an interrupt or softirq that returns holding a lock', () => {
    const cx = counterexample('timer-callback-leaks-spin_lock');
    expect(cx.violation.kind).toBe('lock-leak');
    expect(lockdepReport(cx.program, cx.violation.choices, cx.violation)).toBeNull();
  });
});
