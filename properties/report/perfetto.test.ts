/**
 * The Perfetto (Chrome trace-event) JSON: valid, one named track per CPU,
 * contexts as properly nested B/E slices, lock holds on lock tracks, the
 * steps and the violation as instants, and the same bytes every time.
 */
import { describe, expect, it } from 'vitest';
import { cpuTid, perfettoTrace, STEP_QUANTUM_US, TRACE_PID, type PerfettoTrace } from '../../model/report/perfetto.ts';
import { counterexample } from './counterexamples.ts';
import { slicesOf } from './slices.ts';

const trace = (name: string): PerfettoTrace => {
  const cx = counterexample(name);
  return perfettoTrace(cx.program, cx.violation.choices);
};

const threadNames = (t: PerfettoTrace): Map<number, string> =>
  new Map(t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, String(e.args!.name)]));

describe('perfettoTrace', () => {
  it('is a trace-event JSON object that survives JSON', () => {
    const t = trace('task-vs-hardirq-spin_lock');
    const back = JSON.parse(JSON.stringify(t)) as PerfettoTrace;
    expect(back).toEqual(t);
    expect(t.displayTimeUnit).toBe('ns');
    expect(t.traceEvents.every((e) => e.pid === TRACE_PID)).toBe(true);
    expect(t.traceEvents.every((e) => ['B', 'E', 'i', 'M'].includes(e.ph) && Number.isFinite(e.ts))).toBe(true);
    expect(t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args!.name)).toEqual(['kdefer task-vs-hardirq-spin_lock']);
  });

  it('B1: the hardirq slice nests inside the task slice on cpu0, the lock hold on the lock track', () => {
    const t = trace('task-vs-hardirq-spin_lock');
    const names = threadNames(t);
    expect([...names.entries()].filter(([, n]) => n.startsWith('cpu'))).toEqual([[cpuTid(0), 'cpu0']]);
    const slices = slicesOf(t);
    const cpu0 = slices.filter((s) => s.tid === cpuTid(0));
    const task = cpu0.find((s) => s.name === 'task ethtool')!;
    const irq = cpu0.find((s) => s.name === 'hardirq eth0')!;
    expect(task.depth).toBe(0);
    expect(irq.depth).toBe(1);
    expect(irq.begin).toBe(2 * STEP_QUANTUM_US);
    expect(task.begin).toBeLessThan(irq.begin);
    const lockTid = [...names.entries()].find(([, n]) => n === 'lock &priv->lock')![0];
    expect(slices.filter((s) => s.tid === lockTid).map((s) => [s.name, s.begin])).toEqual([['task ethtool', STEP_QUANTUM_US]]);
    expect(slices.some((s) => s.name === 'hardirq eth0 spins')).toBe(true);
  });

  it('B2: the NET_RX handler slice nests in the softirq batch over the task', () => {
    const slices = slicesOf(trace('task-vs-softirq-spin_lock')).filter((s) => s.tid === cpuTid(0));
    expect(slices.map((s) => [s.name, s.depth]).sort()).toEqual([
      ['NET_RX', 2], ['hardirq eth0', 1], ['softirq', 1], ['task ethtool', 0],
    ]);
  });

  it('ABBA: one track per CPU, each with its task, and both holds and both waits on the lock tracks', () => {
    const t = trace('abba-spin_lock');
    const names = threadNames(t);
    expect(names.get(cpuTid(0))).toBe('cpu0');
    expect(names.get(cpuTid(1))).toBe('cpu1');
    expect(t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && String(e.args!.name).startsWith('cpu'))).toHaveLength(2);
    const slices = slicesOf(t);
    expect(slices.filter((s) => s.tid === cpuTid(1)).map((s) => s.name)).toEqual(['task mover1']);
    const onLock = (lock: string) => slices.filter((s) => names.get(s.tid)?.startsWith(`lock ${lock}`)).map((s) => s.name).sort();
    expect(onLock('&A')).toEqual(['task mover0', 'task mover1 spins']);
    expect(onLock('&B')).toEqual(['task mover0 spins', 'task mover1']);
  });

  it('has an instant per step on the acting CPU and the violation after the last step', () => {
    const cx = counterexample('abba-spin_lock');
    const t = perfettoTrace(cx.program, cx.violation.choices);
    const instants = t.traceEvents.filter((e) => e.ph === 'i');
    const steps = instants.filter((e) => e.cat === 'step');
    expect(steps.map((e) => e.args!.label)).toEqual(cx.violation.trace);
    expect(steps.map((e) => e.tid)).toEqual([cpuTid(0), cpuTid(1), cpuTid(0), cpuTid(1)]);
    const v = instants.filter((e) => e.cat === 'violation');
    expect(v).toHaveLength(1);
    expect(v[0]!.name).toMatch(/^deadlock: deadlock across cpu0\/cpu1/);
    expect(v[0]!.ts).toBeGreaterThan(Math.max(...steps.map((e) => e.ts)));
    expect(v[0]!.s).toBe('t');
  });

  it('is deterministic: the same input gives the same JSON string', () => {
    for (const name of ['irq-safe-to-unsafe-spin_lock', 'mutex-abba', 'rwlock-read-recursion-task']) {
      expect(JSON.stringify(trace(name))).toBe(JSON.stringify(trace(name)));
    }
  });
});
