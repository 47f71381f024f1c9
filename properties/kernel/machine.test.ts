/**
 * model/kernel/machine.ts: the one semantics. `step` is deterministic and
 * pure in its input, `enabled` gives a stable canonical order, and every
 * choice has a label that names the CPU and the context.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compile, defineDesign, inc, local_bh_disable, local_bh_enable, Machine, raise_softirq, read_lock, read_unlock, replay,
  spin_lock, spin_lock_bh, spin_lock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irqrestore, write_lock,
  write_unlock, type Design,
} from '../../model/index.ts';
import { C_BH, C_CURTASK, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_PENDING, C_PREEMPT, C_SERVING, ContextStatus, X_STATUS } from '../../model/kernel/layout.ts';
import { choiceCpu } from '../../model/kernel/semantics.ts';

const taskVsIrq = defineDesign({
  name: 'task-vs-irq', cpus: 1, locks: { 'priv->lock': 'spinlock' }, vars: { count: 0 },
  tasks: [{ name: 'reader', cpu: 0, body: [spin_lock('priv->lock'), inc('count'), spin_unlock('priv->lock')] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('count'), spin_unlock('priv->lock')] }],
});

const softirqs = defineDesign({
  name: 'two-cpus-softirqs', cpus: 2, locks: { L: 'spinlock' }, vars: { x: 0 },
  tasks: [
    { name: 'a', cpu: 0, body: [spin_lock_bh('L'), inc('x'), spin_unlock_bh('L'), raise_softirq('NET_TX')] },
    { name: 'b', cpu: 1, body: [local_bh_disable(), spin_lock_irqsave('L', 'flags'), inc('x'), spin_unlock_irqrestore('L', 'flags'), local_bh_enable()] },
    { name: 'c', cpu: 1, body: [inc('x')] },
  ],
  irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')], budget: 2 }],
  softirqs: { NET_RX: [spin_lock('L'), inc('x'), spin_unlock('L')], NET_TX: [inc('x')] },
});

const rwlocks = defineDesign({
  name: 'rwlocks', cpus: 2, locks: { R: 'rwlock' }, vars: { x: 0 },
  tasks: [
    { name: 'reader', cpu: 0, body: [read_lock('R'), read_lock('R'), read_unlock('R'), read_unlock('R')] },
    { name: 'writer', cpu: 1, body: [write_lock('R'), inc('x'), write_unlock('R')] },
  ],
  irqs: [{ name: 'eth0', cpus: [0], handler: [read_lock('R'), read_unlock('R')] }],
});

const DESIGNS: readonly Design[] = [taskVsIrq, softirqs, rwlocks];

interface Trace {
  readonly states: Int32Array[];
  readonly labels: string[];
  readonly choices: number[];
}

/** Follow `picks` (each taken modulo the number of enabled choices) on a fresh machine of a fresh compile. */
function follow(design: Design, picks: readonly number[]): Trace {
  const m = new Machine(compile(design));
  let s = m.initial();
  const trace: Trace = { states: [s], labels: [], choices: [] };
  for (const pick of picks) {
    const en = m.enabled(s);
    if (en.length === 0) break;
    const c = en[pick % en.length]!;
    trace.labels.push(m.label(s, c));
    trace.choices.push(c);
    s = m.step(s, c);
    trace.states.push(s);
  }
  return trace;
}

const bytes = (s: Int32Array) => Buffer.from(s.buffer, s.byteOffset, s.byteLength);

const designArb = fc.constantFrom(...DESIGNS);
const picksArb = fc.array(fc.nat({ max: 1000 }), { maxLength: 80 });

describe('determinism', () => {
  it('the same choices from the initial state give byte-identical states and identical labels', () => {
    fc.assert(
      fc.property(designArb, picksArb, (design, picks) => {
        const a = follow(design, picks);
        const b = follow(design, picks);
        expect(b.choices).toEqual(a.choices);
        expect(b.labels).toEqual(a.labels);
        expect(b.states.length).toBe(a.states.length);
        a.states.forEach((s, i) => expect(bytes(b.states[i]!).equals(bytes(s))).toBe(true));
      }),
      { numRuns: 150, seed: 20240601 },
    );
  });

  it('replay() of a choice list rebuilds the same final state and labels', () => {
    fc.assert(
      fc.property(designArb, picksArb, (design, picks) => {
        const a = follow(design, picks);
        const r = replay(compile(design), a.choices, a.labels);
        expect(r.mismatch).toBeNull();
        expect(bytes(r.final).equals(bytes(a.states.at(-1)!))).toBe(true);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('enabled()', () => {
  it('is stable: the same state gives the same choices in the same order, on any machine, any number of times', () => {
    fc.assert(
      fc.property(designArb, picksArb, (design, picks) => {
        const a = follow(design, picks);
        const other = new Machine(compile(design));
        const m = new Machine(compile(design));
        for (const s of a.states) {
          const copy = s.slice();
          const first = m.enabled(s);
          expect(m.enabled(s)).toEqual(first);
          expect(other.enabled(copy)).toEqual(first);
          expect(bytes(s).equals(bytes(copy))).toBe(true); // enabled() does not write the state
        }
      }),
      { numRuns: 80, seed: 11 },
    );
  });

  it('lists choices CPU by CPU, in ascending CPU order, each choice once', () => {
    fc.assert(
      fc.property(designArb, picksArb, (design, picks) => {
        const a = follow(design, picks);
        const m = new Machine(compile(design));
        for (const s of a.states) {
          const en = m.enabled(s);
          const cpus = en.map(choiceCpu);
          expect(cpus).toEqual([...cpus].sort((x, y) => x - y));
          expect(new Set(en).size).toBe(en.length);
        }
      }),
      { numRuns: 80, seed: 13 },
    );
  });

  it('in the initial state: every count is zero; a CPU with one task runs it, a CPU with several lets the scheduler pick', () => {
    const m = new Machine(compile(softirqs));
    const s = m.initial();
    for (const cpu of [0, 1]) {
      const co = m.cpuOff(cpu);
      for (const f of [C_IRQS_OFF, C_PREEMPT, C_BH, C_SERVING, C_HARDIRQ, C_PENDING, C_DEPTH]) expect(s[co + f]).toBe(0);
    }
    expect([s[m.cpuOff(0) + C_CURTASK], s[m.cpuOff(1) + C_CURTASK]]).toEqual([0, -1]);
    expect([0, 1, 2].map((t) => s[m.ctxOff(t) + X_STATUS])).toEqual([ContextStatus.Running, ContextStatus.NotStarted, ContextStatus.NotStarted]);
    expect(m.enabled(s).map((c) => m.label(s, c)).filter((l) => l.startsWith('cpu1')).sort()).toEqual([
      'cpu1: eth0 interrupt arrives', 'cpu1: schedule() → task b', 'cpu1: schedule() → task c',
    ]);
  });
});

describe('step()', () => {
  it('never modifies its input state, and label() does not either', () => {
    fc.assert(
      fc.property(designArb, picksArb, (design, picks) => {
        const m = new Machine(compile(design));
        let s = m.initial();
        for (const pick of picks) {
          const en = m.enabled(s);
          if (en.length === 0) break;
          const c = en[pick % en.length]!;
          const before = s.slice();
          m.label(s, c);
          const next = m.step(s, c);
          expect(bytes(s).equals(bytes(before))).toBe(true);
          expect(next).not.toBe(s);
          // Stepping the same state again gives the same successor.
          expect(bytes(m.step(s, c)).equals(bytes(next))).toBe(true);
          s = next;
        }
      }),
      { numRuns: 100, seed: 17 },
    );
  });
});

describe('labels', () => {
  const CONTEXT = String.raw`(task \S+|hardirq \S+|softirq( [A-Z_]+)?|ksoftirqd/\d+( [A-Z_]+)?)`;
  const RUN_LABEL = new RegExp(String.raw`^cpu\d \[${CONTEXT}\]: \S`);
  const EVENT_LABEL = /^cpu\d: (\S+ interrupt arrives|ksoftirqd\/\d .+|schedule\(\) .+)/;

  it('every label names the CPU, and a running context\'s step names the context', () => {
    fc.assert(
      fc.property(designArb, picksArb, (design, picks) => {
        const a = follow(design, picks);
        for (const l of a.labels) {
          expect(RUN_LABEL.test(l) || EVENT_LABEL.test(l), l).toBe(true);
          expect(l).not.toMatch(/undefined|NaN|\[object|null/);
        }
      }),
      { numRuns: 100, seed: 19 },
    );
  });

  it('read as the kernel does', () => {
    const m = new Machine(compile(taskVsIrq));
    let s = m.initial();
    const take = (label: string) => {
      const c = m.enabled(s).find((x) => m.label(s, x) === label);
      expect(c, `${label} in ${m.enabled(s).map((x) => m.label(s, x)).join(' | ')}`).toBeDefined();
      s = m.step(s, c!);
    };
    expect(m.enabled(s).map((c) => m.label(s, c))).toEqual(['cpu0 [task reader]: spin_lock(&priv->lock)', 'cpu0: eth0 interrupt arrives']);
    take('cpu0 [task reader]: spin_lock(&priv->lock)');
    take('cpu0: eth0 interrupt arrives');
    take('cpu0 [hardirq eth0]: spin_lock(&priv->lock): &priv->lock is busy, spins');
  });
});
