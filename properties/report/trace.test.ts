/**
 * The text trace: one column per CPU, the acting CPU's column carrying the
 * step's action, the context stack with held locks, and the irq/bh state;
 * the violation at the end.
 */
import { describe, expect, it } from 'vitest';
import { compile, defineDesign, inc, spin_lock, spin_unlock } from '../../model/index.ts';
import { traceText } from '../../model/report/trace.ts';
import { counterexample } from './counterexamples.ts';

const trace = (name: string): string => {
  const cx = counterexample(name);
  return traceText(cx.program, cx.violation.choices);
};

/** The column a header cell starts at. */
const columnOf = (header: string, cell: string): number => header.indexOf(cell);

describe('traceText', () => {
  it('B1: one column for the one CPU, and the hardirq frame stacked on the task holding the lock', () => {
    const text = trace('task-vs-hardirq-spin_lock');
    const lines = text.split('\n');
    expect(lines[0]).toBe('kdefer trace of task-vs-hardirq-spin_lock: 1 CPU, 3 steps, profile modern, preempt none');
    expect(lines[1]).toBe('step | cpu0');
    expect(lines[1]).not.toContain('cpu1');
    expect(text).toContain('   1 | [task ethtool] spin_lock(&priv->lock)\n     |   task ethtool {&priv->lock}\n     |   irqs on, preempt 1\n');
    expect(text).toContain('   2 | » eth0 interrupt arrives\n     |   task ethtool {&priv->lock} > hardirq eth0\n     |   irqs off, preempt 1, in hardirq\n');
    expect(text).toContain('task ethtool {&priv->lock} > hardirq eth0 (spins on &priv->lock)');
    expect(text).toContain('\nviolation: deadlock on cpu0 in hardirq eth0\n  AA deadlock on cpu0: hardirq eth0 spins on a lock held by a context it interrupted');
  });

  it('B2: the softirq frame, its vector, the pending mask and the serving state', () => {
    const text = trace('task-vs-softirq-spin_lock');
    expect(text).toContain('irqs off, preempt 1, in hardirq, softirq pending NET_RX');
    expect(text).toContain('task ethtool {&priv->lock} > softirq\n     |   irqs on, preempt 1, serving softirq');
    expect(text).toContain('[softirq NET_RX] spin_lock(&priv->lock): &priv->lock is busy, spins');
    expect(text).toContain('task ethtool {&priv->lock} > softirq NET_RX (spins on &priv->lock)');
  });

  it('ABBA: two CPU columns, each step in the column of the CPU that took it', () => {
    const text = trace('abba-spin_lock');
    const lines = text.split('\n');
    const header = lines[1]!;
    expect(header.startsWith('step | cpu0 ')).toBe(true);
    expect(header).toMatch(/ \| cpu1$/);
    const cpu0 = columnOf(header, 'cpu0');
    const cpu1 = columnOf(header, 'cpu1');
    const row = (action: string): string => lines.find((l) => l.includes(action))!;
    expect(row('[task mover0] spin_lock(&A)').indexOf('[task mover0]')).toBe(cpu0);
    expect(row('[task mover1] spin_lock(&B)').indexOf('[task mover1]')).toBe(cpu1);
    expect(row('[task mover1] spin_lock(&A)').indexOf('[task mover1]')).toBe(cpu1);
    // The cpu1 step leaves cpu0's column empty.
    expect(row('[task mover1] spin_lock(&B)').slice(0, cpu1)).toMatch(/^ {3}2 \| +\| $/);
    expect(text).toContain('task mover0 {&A} (spins on &B)');
    expect(text).toContain('task mover1 {&B} (spins on &A)');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(160);
  });

  it('shows read holds, sleepers and the step 0 start of every CPU', () => {
    expect(trace('rwlock-read-recursion-task')).toContain('task lookup {&L (read)} (spins on &L for read)');
    const mutex = trace('mutex-abba');
    expect(mutex).toContain('asleep: task ioctl {&rtnl_mutex} (sleeps on &dev->mutex)');
    expect(mutex.split('\n')[3]).toMatch(/^ {3}0 \| start +\| start$/);
  });

  it('wraps long actions inside the column', () => {
    const text = trace('rwlock-read-recursion-task');
    expect(text).toContain('[task updater] write_lock(&L): takes the qrwlock wait lock and sets\n');
    expect(text).toMatch(/\n {5}\| {72}\| {3}_QW_WAITING, spins\n/);
  });

  it('is deterministic', () => {
    expect(trace('irq-safe-to-unsafe-spin_lock')).toBe(trace('irq-safe-to-unsafe-spin_lock'));
  });

  it('says where a schedule stops fitting the model, and a clean end', () => {
    const p = compile(defineDesign({
      name: 'one-lock', cpus: 1, locks: { A: 'spinlock' }, vars: { n: 0 },
      tasks: [{ name: 'only', cpu: 0, body: [spin_lock('A'), inc('n'), spin_unlock('A')] }],
    }));
    expect(traceText(p, [0, 0, 0, 0])).toContain('\nend: no violation\n');
    expect(traceText(p, [0, 12345])).toContain('the schedule does not replay at step 2: choice 12345 is not enabled here');
  });
});
