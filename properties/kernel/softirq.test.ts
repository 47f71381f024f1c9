/**
 * model/kernel/softirq.ts: the ten vectors in priority order, the three raise
 * primitives and their wakeup rules, the processing loop with its restart
 * policy, the run points and ksoftirqd (kernel/softirq.c;
 * shared/kernel-semantics.md §1.3, §2).
 */
import { describe, expect, it } from 'vitest';
import {
  __raise_softirq_irqoff, check, dec, defineDesign, do_softirq, eq, if_, inc, local_bh_disable, local_bh_enable,
  local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save, lt, preempt_disable, preempt_enable,
  raise_softirq, raise_softirq_irqoff, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, v, BUG_ON,
  type Design, type SoftirqName, type Stmt,
} from '../../model/index.ts';
import {
  C_BH, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_KSOFTIRQD, C_PENDING, C_SERVING, FrameKind,
} from '../../model/kernel/layout.ts';
import { MAX_SOFTIRQ_RESTART } from '../../model/kernel/softirq.ts';
import { walkReachable } from '../helpers/reachable.ts';
import { Schedule } from '../helpers/schedule.ts';

const BIT: Record<SoftirqName, number> = {
  HI: 1, TIMER: 2, NET_TX: 4, NET_RX: 8, BLOCK: 16, IRQ_POLL: 32, TASKLET: 64, SCHED: 128, HRTIMER: 256, RCU: 512,
};

/** Task `t` on cpu0 runs `body`; NET_RX and NET_TX handlers count into x; extra fields override. */
const design = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'softirq-rule', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0, n: 0 },
  tasks: [{ name: 't', cpu: 0, body }],
  softirqs: { NET_RX: [inc('x')], NET_TX: [inc('x')], HI: [inc('x')] },
  ...extra,
});

/** Raise NET_RX on the current CPU without waking anyone, from a task with irqs on. */
const quietRaise = (vec: SoftirqName = 'NET_RX'): Stmt[] => [local_irq_save('f'), __raise_softirq_irqoff(vec), local_irq_restore('f')];

/** Names of the vectors whose handlers the schedule ran, in order. */
const handlersRun = (labels: readonly string[]): string[] =>
  labels.flatMap((l) => /__do_softirq: run (\w+) handler/.exec(l)?.[1] ?? []);

describe('raising: each primitive\'s wakeup rule (kernel/softirq.c)', () => {
  it('raise_softirq from a task with bh on sets the bit and wakes ksoftirqd', () => {
    const s = new Schedule(design([raise_softirq('NET_RX')])).take('raise_softirq');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_IRQS_OFF)]).toEqual([BIT.NET_RX, 1, 0]);
  });

  it('raise_softirq from a task with bh disabled does not wake ksoftirqd (in_interrupt())', () => {
    const s = new Schedule(design([local_bh_disable(), raise_softirq('NET_RX'), local_bh_enable()])).run('local_bh_disable', 'raise_softirq');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([BIT.NET_RX, 0]);
  });

  it('raise_softirq from a hardirq handler does not wake ksoftirqd', () => {
    const s = new Schedule(design([], { tasks: [], irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }] }))
      .run('eth0 interrupt arrives', 'raise_softirq');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([BIT.NET_RX, 0]);
  });

  it('raise_softirq from a softirq handler does not wake ksoftirqd', () => {
    const s = new Schedule(design([], {
      tasks: [], irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }],
      softirqs: { NET_RX: [raise_softirq('NET_TX')], NET_TX: [] },
    })).run('eth0 interrupt arrives', 'raise_softirq', 'return', 'run NET_RX handler', '[softirq NET_RX]: raise_softirq');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([BIT.NET_TX, 0]);
  });

  it('raise_softirq_irqoff wakes ksoftirqd from a task with irqs off, not from a hardirq', () => {
    const task = new Schedule(design([local_irq_save('f'), raise_softirq_irqoff('NET_RX'), local_irq_restore('f')])).run('local_irq_save', 'raise_softirq_irqoff');
    expect([task.cpu(0, C_PENDING), task.cpu(0, C_KSOFTIRQD)]).toEqual([BIT.NET_RX, 1]);
    const irq = new Schedule(design([], { tasks: [], irqs: [{ name: 'eth0', handler: [raise_softirq_irqoff('NET_RX')] }] }))
      .run('eth0 interrupt arrives', 'raise_softirq_irqoff');
    expect([irq.cpu(0, C_PENDING), irq.cpu(0, C_KSOFTIRQD)]).toEqual([BIT.NET_RX, 0]);
  });

  it('raise_softirq_irqoff with irqs on is an assertion failure (lockdep_assert_irqs_disabled)', () => {
    const v = check(design([raise_softirq_irqoff('NET_RX')]));
    expect(v.violation?.kind).toBe('assertion');
    expect(v.violation?.message).toContain('raise_softirq_irqoff(NET_RX) called with irqs enabled');
  });

  it('__raise_softirq_irqoff with irqs on is an assertion failure', () => {
    const v = check(design([__raise_softirq_irqoff('NET_TX')]));
    expect(v.violation?.kind).toBe('assertion');
    expect(v.violation?.message).toContain('__raise_softirq_irqoff(NET_TX) called with irqs enabled');
  });

  it('__raise_softirq_irqoff never wakes ksoftirqd, even from a task with bh on', () => {
    const s = new Schedule(design(quietRaise())).run('local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore');
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_DEPTH)]).toEqual([BIT.NET_RX, 0, 0]);
  });

  it('__raise_softirq_irqoff from a task with bh on leaves the work pending on an idle CPU: lost-softirq (B15)', () => {
    const v = check(design(quietRaise()));
    expect(v.status).toBe('violation');
    expect(v.violation?.kind).toBe('lost-softirq');
    expect(v.violation?.message).toContain('NOHZ tick-stop error: local softirq work is pending');
  });

  it('the same raise inside local_bh_disable/enable runs at the bh enable: verified', () => {
    expect(check(design([local_bh_disable(), ...quietRaise(), local_bh_enable()])).status).toBe('verified');
  });

  it('raise_softirq_irqoff in the same place wakes ksoftirqd: verified', () => {
    expect(check(design([local_irq_save('f'), raise_softirq_irqoff('NET_RX'), local_irq_restore('f')])).status).toBe('verified');
  });
});

describe('run points: each checks !in_interrupt() && pending (§2.4)', () => {
  const irqRaising = (body: readonly Stmt[], vec: SoftirqName = 'NET_RX'): Design =>
    design(body, { irqs: [{ name: 'eth0', handler: [raise_softirq(vec)] }] });

  it('irq_exit runs pending softirqs on top of a task with bh on', () => {
    const s = new Schedule(irqRaising([inc('n')])).run('eth0 interrupt arrives', 'raise_softirq');
    expect([s.cpu(0, C_HARDIRQ), s.cpu(0, C_IRQS_OFF)]).toEqual([1, 1]);
    s.take('[hardirq eth0]: return');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    // __do_softirq: snapshot taken, pending cleared, SOFTIRQ_OFFSET set, irqs on for the handlers.
    expect([s.cpu(0, C_HARDIRQ), s.cpu(0, C_SERVING), s.cpu(0, C_PENDING), s.cpu(0, C_IRQS_OFF)]).toEqual([0, 1, 0, 0]);
    s.run('run NET_RX handler', '[softirq NET_RX]: x++', '[softirq NET_RX]: return', 'batch done');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect([s.cpu(0, C_SERVING), s.cpu(0, C_IRQS_OFF), s.variable('x')]).toEqual([0, 0, 1]);
  });

  it('irq_exit on an idle CPU runs them too', () => {
    const s = new Schedule(design([], { tasks: [], irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }] }))
      .run('eth0 interrupt arrives', 'raise_softirq', 'return');
    expect(s.frames(0)).toEqual([FrameKind.Softirq]);
  });

  it('irq_exit does not run them when the irq interrupted a bh-disabled task', () => {
    const s = new Schedule(irqRaising([local_bh_disable(), inc('n'), local_bh_enable()]))
      .run('local_bh_disable', 'eth0 interrupt arrives', 'raise_softirq', '[hardirq eth0]: return');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_IRQS_OFF), s.cpu(0, C_HARDIRQ), s.cpu(0, C_BH)]).toEqual([BIT.NET_RX, 0, 0, 1]);
    // …and the outermost local_bh_enable picks them up.
    s.run('n++', 'local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });

  it('irq_exit does not run them when the irq interrupted a softirq: the running batch restarts instead', () => {
    const d = design([], {
      tasks: [],
      irqs: [{ name: 'eth0', cpus: [0], handler: [raise_softirq('NET_RX')] }, { name: 'eth1', cpus: [0], handler: [raise_softirq('NET_TX')] }],
    });
    const s = new Schedule(d).run('eth0 interrupt arrives', 'raise_softirq', 'return', 'run NET_RX handler', 'eth1 interrupt arrives');
    expect(s.frames(0)).toEqual([FrameKind.Softirq, FrameKind.Hardirq]);
    s.run('[hardirq eth1]: raise_softirq', '[hardirq eth1]: return');
    expect(s.frames(0)).toEqual([FrameKind.Softirq]);
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_SERVING)]).toEqual([BIT.NET_TX, 1]);
    s.run('[softirq NET_RX]: x++', '[softirq NET_RX]: return', 'NET_TX raised meanwhile, restart', 'run NET_TX handler');
  });

  it('only the outermost irq_exit runs them when hardirqs nest (irqHandlersIrqsOff=false)', () => {
    const d = design([], {
      tasks: [], flags: { irqHandlersIrqsOff: false },
      irqs: [{ name: 'eth0', handler: [inc('n')] }, { name: 'eth1', handler: [raise_softirq('NET_RX')] }],
    });
    const s = new Schedule(d).run('eth0 interrupt arrives', 'eth1 interrupt arrives', '[hardirq eth1]: raise_softirq', '[hardirq eth1]: return');
    expect(s.frames(0)).toEqual([FrameKind.Hardirq]);
    expect([s.cpu(0, C_HARDIRQ), s.cpu(0, C_PENDING)]).toEqual([1, BIT.NET_RX]);
    s.run('[hardirq eth0]: n++', '[hardirq eth0]: return');
    expect(s.frames(0)).toEqual([FrameKind.Softirq]);
  });

  it('a local_bh_enable inside a softirq handler runs nothing: the batch is serving', () => {
    const d = design([], {
      tasks: [], irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }],
      softirqs: { NET_RX: [local_bh_disable(), raise_softirq('NET_TX'), local_bh_enable()], NET_TX: [inc('x')] },
    });
    const s = new Schedule(d).run('eth0 interrupt arrives', 'raise_softirq', 'return', 'run NET_RX handler', 'local_bh_disable', 'raise_softirq', 'local_bh_enable');
    expect(s.violation()).toBeNull();
    expect(s.frames(0)).toEqual([FrameKind.Softirq]);
    expect([s.cpu(0, C_BH), s.cpu(0, C_PENDING)]).toEqual([0, BIT.NET_TX]);
  });

  it('the outermost local_bh_enable runs them in the caller\'s context, and the caller continues after', () => {
    const s = new Schedule(design([local_bh_disable(), ...quietRaise(), local_bh_enable(), inc('n')]))
      .run('local_bh_disable', 'local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    expect([s.cpu(0, C_BH), s.cpu(0, C_SERVING), s.cpu(0, C_PENDING)]).toEqual([0, 1, 0]);
    s.run('run NET_RX handler', 'x++', 'return', 'batch done');
    expect(s.topName(0)).toBe('task t');
    s.take('[task t]: n++');
    expect([s.variable('x'), s.variable('n')]).toEqual([1, 1]);
  });

  it('a nested local_bh_enable does not run them', () => {
    const s = new Schedule(design([local_bh_disable(), local_bh_disable(), ...quietRaise(), local_bh_enable(), local_bh_enable()]))
      .run('local_bh_disable', 'local_bh_disable', 'local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect([s.cpu(0, C_BH), s.cpu(0, C_PENDING)]).toEqual([1, BIT.NET_RX]);
    s.take('local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });

  it('spin_lock, spin_unlock, preempt_disable/enable, local_irq_disable/enable and local_irq_restore are not run points', () => {
    const notRunPoints = [spin_lock('L'), spin_unlock('L'), preempt_disable(), preempt_enable(), local_irq_disable(), local_irq_enable()];
    const s = new Schedule(design([...quietRaise(), ...notRunPoints, local_bh_disable(), local_bh_enable()]));
    for (const op of ['local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'spin_lock', 'spin_unlock', 'preempt_disable', 'preempt_enable', 'local_irq_disable', 'local_irq_enable', 'local_bh_disable']) {
      s.take(`[task t]: ${op}(`);
      expect(s.frames(0), `after ${op}`).toEqual([FrameKind.Task]);
    }
    expect(s.cpu(0, C_PENDING)).toBe(BIT.NET_RX);
    s.take('local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });

  it('do_softirq() runs pending softirqs in the caller\'s context, and does nothing with bh disabled', () => {
    const s = new Schedule(design([...quietRaise(), do_softirq()])).run('local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'do_softirq');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    const off = new Schedule(design([local_bh_disable(), ...quietRaise(), do_softirq(), local_bh_enable()]))
      .run('local_bh_disable', 'local_irq_save', '__raise_softirq_irqoff', 'local_irq_restore', 'do_softirq');
    expect(off.frames(0)).toEqual([FrameKind.Task]);
  });

  it('do_softirq() called with irqs disabled returns with them disabled (local_irq_save/restore around the batch)', () => {
    // kernel/softirq.c do_softirq(): local_irq_save(flags); … do_softirq_own_stack(); local_irq_restore(flags);
    const s = new Schedule(design([local_irq_disable(), __raise_softirq_irqoff('NET_RX'), do_softirq(), local_irq_enable()]))
      .run('local_irq_disable', '__raise_softirq_irqoff', 'do_softirq');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    s.run('run NET_RX handler', 'x++', 'return', 'batch done');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
  });
});

describe('softirqs never nest on one CPU, and start only outside interrupt context', () => {
  it('in every reachable state at most one batch is on a CPU, and a batch starts only with hardirq and bh counts 0', () => {
    const d = defineDesign({
      name: 'no-nesting', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [spin_lock_bh('L'), spin_unlock_bh('L'), raise_softirq('NET_TX'), local_bh_disable(), local_bh_enable()] }],
      irqs: [
        { name: 'eth0', handler: [raise_softirq('NET_RX')], budget: 2 },
        { name: 'eth1', handler: [raise_softirq('NET_TX')] },
      ],
      softirqs: { NET_RX: [inc('x')], NET_TX: [raise_softirq('NET_RX')] },
    });
    let irqOverSoftirq = 0;
    let batches = 0;
    const batchFrames = (m: { s: Int32Array; frameCtx(c: number, d: number): number; ctxOff(c: number): number; cpuOff(c: number): number }, s: Int32Array): FrameKind[] => {
      const out: FrameKind[] = [];
      for (let dd = 0; dd < s[m.cpuOff(0) + C_DEPTH]!; dd++) out.push(s[m.ctxOff(m.frameCtx(0, dd)) + 1]! as FrameKind);
      return out;
    };
    const isBatch = (k: FrameKind) => k === FrameKind.Softirq || k === FrameKind.Ksoftirqd;
    const walk = walkReachable(d, {
      state(m, s) {
        const frames = batchFrames(m, s);
        expect(frames.filter(isBatch).length).toBeLessThanOrEqual(1);
        const b = frames.findIndex(isBatch);
        if (b >= 0 && frames.slice(b + 1).includes(FrameKind.Hardirq)) irqOverSoftirq++;
        if (b >= 0) expect(s[m.cpuOff(0) + C_SERVING]).toBe(1);
      },
      step(m, before, _choice, after) {
        const was = batchFrames(m, before).filter(isBatch).length;
        const now = batchFrames(m, after).filter(isBatch).length;
        if (now > was) {
          batches++;
          expect(after[m.cpuOff(0) + C_HARDIRQ]).toBe(0);
          expect(after[m.cpuOff(0) + C_BH]).toBe(0);
        }
      },
    });
    expect(walk.states).toBeGreaterThan(100);
    expect(irqOverSoftirq).toBeGreaterThan(0); // the walk did see interrupts on top of softirqs
    expect(batches).toBeGreaterThan(0);
  });
});

describe('the same vector runs concurrently on different CPUs (§2.1)', () => {
  const d = defineDesign({
    name: 'net-rx-on-two-cpus', cpus: 2, vars: { inside: 0 },
    tasks: [],
    irqs: [
      { name: 'eth0', cpus: [0], handler: [raise_softirq('NET_RX')] },
      { name: 'eth1', cpus: [1], handler: [raise_softirq('NET_RX')] },
    ],
    softirqs: { NET_RX: [inc('inside'), BUG_ON(eq(v('inside'), 2)), dec('inside')] },
  });

  it('two NET_RX handlers can be inside at once: exhaustive finds the BUG_ON', () => {
    const v = check(d);
    expect(v.violation?.kind).toBe('assertion');
    expect(v.violation?.message).toContain('kernel BUG at softirq NET_RX[1]');
    expect(v.violation?.trace.filter((l) => l.includes('run NET_RX handler')).map((l) => l.slice(0, 4)).sort()).toEqual(['cpu0', 'cpu1']);
  });

  it('random search finds it too', () => {
    const v = check(d, { explorer: 'random', seed: 7, runs: 300 });
    expect(v.violation?.kind).toBe('assertion');
  });
});

describe('the processing loop (__do_softirq / handle_softirqs)', () => {
  it('runs the snapshot lowest bit first; a vector raised during a pass runs in a later pass, even a lower one', () => {
    const d = design([], {
      tasks: [],
      irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX'), raise_softirq('TIMER'), raise_softirq('NET_TX')] }],
      softirqs: { TIMER: [], NET_TX: [raise_softirq('HI')], NET_RX: [inc('x')], HI: [] },
    });
    const s = new Schedule(d).runToEnd(['restart']);
    expect(handlersRun(s.labels)).toEqual(['TIMER', 'NET_TX', 'NET_RX', 'HI']);
    const restart = s.labels.findIndex((l) => l.includes('HI raised meanwhile, restart'));
    expect(restart).toBeGreaterThan(s.labels.findIndex((l) => l.includes('run NET_RX handler')));
    expect(s.violation()).toBeNull();
  });

  /** NET_RX re-raises itself until it has run `times` times. */
  const selfRaising = (times: number, extra: Partial<Design> = {}): Design => design([], {
    tasks: [],
    irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }],
    softirqs: { NET_RX: [inc('n'), if_(lt(v('n'), times), [raise_softirq('NET_RX')])] },
    ...extra,
  });

  it(`restarts at most MAX_SOFTIRQ_RESTART = ${MAX_SOFTIRQ_RESTART} passes, then gives up and wakes ksoftirqd`, () => {
    expect(MAX_SOFTIRQ_RESTART).toBe(10);
    const s = new Schedule(selfRaising(30)).run('eth0 interrupt arrives', 'raise_softirq', 'return');
    for (let pass = 1; pass <= 10; pass++) {
      s.run('run NET_RX handler', 'n++', 'if (n < 30)', 'raise_softirq', 'return');
      const loop = s.enabledLabels().filter((l) => l.includes('__do_softirq'));
      if (pass < 10) {
        // Restarting or giving up early (2 ms / need_resched) are both possible.
        expect(loop).toHaveLength(2);
        s.take('NET_RX raised meanwhile, restart');
      } else {
        expect(loop).toEqual(['cpu0 [softirq]: __do_softirq: NET_RX still pending, give up (time limit, need_resched or restarts) and wake ksoftirqd']);
      }
    }
    expect(s.variable('n')).toBe(10);
    s.take('give up');
    expect(s.frames(0)).toEqual([]);
    expect([s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_PENDING), s.cpu(0, C_SERVING), s.cpu(0, C_IRQS_OFF)]).toEqual([1, BIT.NET_RX, 0, 0]);
    // ksoftirqd picks the rest up, as softirq context.
    s.take('ksoftirqd/0 runs pending softirqs NET_RX');
    expect(s.frames(0)).toEqual([FrameKind.Ksoftirqd]);
    expect(s.cpu(0, C_SERVING)).toBe(1);
    s.take('run NET_RX handler');
    expect(s.topName(0)).toBe('ksoftirqd/0 NET_RX');
  });

  it('giving up early is a choice after any pass that leaves work pending', () => {
    const s = new Schedule(selfRaising(30)).run('eth0 interrupt arrives', 'raise_softirq', 'return', 'run NET_RX handler', 'n++', 'if (n', 'raise_softirq', 'return');
    s.take('give up');
    expect(s.variable('n')).toBe(1);
    expect([s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_PENDING), s.cpu(0, C_DEPTH)]).toEqual([1, BIT.NET_RX, 0]);
  });

  it('a pass with nothing raised meanwhile finishes the batch without waking ksoftirqd', () => {
    const s = new Schedule(selfRaising(1)).runToEnd();
    expect(s.labels.at(-1)).toContain('__do_softirq: batch done');
    expect([s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_PENDING), s.cpu(0, C_SERVING)]).toEqual([0, 0, 0]);
  });

  describe("2.4 restart policy: restart only for vectors not yet run in this call", () => {
    for (const [name, extra] of [
      ['flags { restartPolicy: once-per-vector }', { flags: { restartPolicy: 'once-per-vector' } }],
      ["profile '2.4'", { profile: '2.4' }],
    ] as const) {
      it(`${name}: a self-raising vector runs once, then ksoftirqd is woken`, () => {
        const s = new Schedule(selfRaising(30, extra)).run('eth0 interrupt arrives', 'raise_softirq', 'return', 'run NET_RX handler', 'n++', 'if (n', 'raise_softirq', 'return');
        expect(s.enabledLabels().filter((l) => l.includes('__do_softirq'))).toEqual([
          'cpu0 [softirq]: __do_softirq: NET_RX still pending, give up (time limit, need_resched or restarts) and wake ksoftirqd',
        ]);
        s.take('give up');
        expect([s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_PENDING)]).toEqual([1, BIT.NET_RX]);
      });

      it(`${name}: a vector not yet run restarts the loop; one already run does not`, () => {
        const d = selfRaising(0, {
          ...extra,
          softirqs: { NET_RX: [inc('n'), if_(lt(v('n'), 2), [raise_softirq('NET_TX')])], NET_TX: [raise_softirq('NET_RX')] },
        });
        const s = new Schedule(d).runToEnd(['restart']);
        expect(handlersRun(s.labels.slice(0, s.labels.findIndex((l) => l.includes('give up'))))).toEqual(['NET_RX', 'NET_TX']);
        expect(s.labels.some((l) => l.includes('NET_TX raised meanwhile, restart'))).toBe(true);
        expect(s.labels.some((l) => l.includes('NET_RX still pending, give up'))).toBe(true);
      });

      it(`${name}: a vector first raised during the call restarts it once, not twice (mask &= ~pending)`, () => {
        const d = selfRaising(0, {
          ...extra,
          softirqs: { NET_RX: [raise_softirq('NET_TX')], NET_TX: [inc('n'), if_(lt(v('n'), 5), [raise_softirq('NET_TX')])] },
        });
        const s = new Schedule(d).runToEnd(['restart']);
        const giveUp = s.labels.findIndex((l) => l.includes('give up'));
        expect(s.labels[giveUp]).toContain('NET_TX still pending, give up');
        expect(handlersRun(s.labels.slice(0, giveUp))).toEqual(['NET_RX', 'NET_TX']);
      });
    }

    it('the modern policy restarts for the same pair instead', () => {
      const d = selfRaising(0, { softirqs: { NET_RX: [inc('n'), if_(lt(v('n'), 2), [raise_softirq('NET_TX')])], NET_TX: [raise_softirq('NET_RX')] } });
      const s = new Schedule(d).runToEnd(['restart']);
      expect(handlersRun(s.labels)).toEqual(['NET_RX', 'NET_TX', 'NET_RX']);
      expect(s.labels.some((l) => l.includes('give up'))).toBe(false);
    });
  });
});

describe('ksoftirqd', () => {
  it('runs pending work once the CPU is free of tasks, as softirq context, and sleeps when done', () => {
    const s = new Schedule(design([raise_softirq('NET_RX'), inc('n')])).take('raise_softirq');
    expect(s.can('ksoftirqd')).toBe(false); // the task runs on (no preemption)
    s.take('[task t]: n++').take('[task t]: return');
    s.take('ksoftirqd/0 runs pending softirqs NET_RX');
    expect(s.frames(0)).toEqual([FrameKind.Ksoftirqd]);
    expect([s.cpu(0, C_SERVING), s.cpu(0, C_PENDING), s.cpu(0, C_IRQS_OFF)]).toEqual([1, 0, 0]);
    s.run('run NET_RX handler', '[ksoftirqd/0 NET_RX]: x++', 'return', 'batch done');
    expect(s.frames(0)).toEqual([]);
    expect([s.cpu(0, C_KSOFTIRQD), s.cpu(0, C_SERVING), s.variable('x')]).toEqual([0, 0, 1]);
    expect(s.enabledLabels()).toEqual([]);
  });

  it('a woken ksoftirqd that finds nothing pending goes back to sleep', () => {
    const d = design([raise_softirq('NET_RX')], { irqs: [{ name: 'eth0', handler: [inc('n')] }] });
    const s = new Schedule(d).run('raise_softirq', 'eth0 interrupt arrives', '[hardirq eth0]: n++', '[hardirq eth0]: return');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]); // irq_exit ran it first
    s.runToEnd(['batch done', 'run', 'x++', 'return']);
    expect(s.labels).toContain('cpu0: ksoftirqd/0 finds nothing pending and sleeps');
    expect(s.cpu(0, C_KSOFTIRQD)).toBe(0);
  });
});

describe("softirqDefer: 'ksoftirqd-running' (4.9–6.4, ksoftirqd_running())", () => {
  /** The task wakes ksoftirqd, then an interrupt raises `vec` and returns. */
  const afterIrq = (defer: 'inline' | 'ksoftirqd-running', vec: SoftirqName) => {
    const d = design([raise_softirq('NET_RX'), inc('n')], {
      flags: { softirqDefer: defer },
      irqs: [{ name: 'eth0', handler: [raise_softirq(vec)] }],
      softirqs: { NET_RX: [inc('x')], NET_TX: [inc('x')], HI: [inc('x')], TASKLET: [inc('x')] },
    });
    return new Schedule(d).run('[task t]: raise_softirq', 'eth0 interrupt arrives', '[hardirq eth0]: raise_softirq', '[hardirq eth0]: return');
  };

  it('inline: irq_exit processes pending softirqs although ksoftirqd is runnable', () => {
    const s = afterIrq('inline', 'NET_TX');
    expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
  });

  it('ksoftirqd-running: irq_exit leaves the work to the runnable ksoftirqd', () => {
    const s = afterIrq('ksoftirqd-running', 'NET_TX');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect([s.cpu(0, C_PENDING), s.cpu(0, C_KSOFTIRQD)]).toEqual([BIT.NET_RX | BIT.NET_TX, 1]);
  });

  for (const vec of ['HI', 'TASKLET'] as const) {
    it(`ksoftirqd-running: ${vec} is exempt (SOFTIRQ_NOW_MASK, 4.15+) and runs at irq_exit`, () => {
      const s = afterIrq('ksoftirqd-running', vec);
      expect(s.frames(0)).toEqual([FrameKind.Task, FrameKind.Softirq]);
    });
  }

  it('ksoftirqd-running: local_bh_enable (do_softirq) skips too', () => {
    const d = design([raise_softirq('NET_RX'), local_bh_disable(), local_bh_enable()], { flags: { softirqDefer: 'ksoftirqd-running' } });
    const s = new Schedule(d).run('raise_softirq', 'local_bh_disable', 'local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
    expect(s.cpu(0, C_PENDING)).toBe(BIT.NET_RX);
    // ksoftirqd does run it in the end: nothing is lost.
    expect(check(d).status).toBe('verified');
  });

  it("profile '4.x-prequeue' defers the same way", () => {
    const d = design([raise_softirq('NET_RX'), local_bh_disable(), local_bh_enable()], { profile: '4.x-prequeue' });
    const s = new Schedule(d).run('raise_softirq', 'local_bh_disable', 'local_bh_enable');
    expect(s.frames(0)).toEqual([FrameKind.Task]);
  });
});

describe('bad bh enable: __local_bh_enable_ip in hardirq or with irqs off', () => {
  it('local_bh_enable with irqs disabled', () => {
    const v = check(design([local_bh_disable(), local_irq_disable(), local_bh_enable(), local_irq_enable()]));
    expect(v.violation?.kind).toBe('bad-bh-enable');
    expect(v.violation?.message).toContain('local_bh_enable() with irqs disabled');
  });

  it('spin_unlock_bh with irqs disabled', () => {
    const v = check(design([spin_lock_bh('L'), local_irq_disable(), spin_unlock_bh('L'), local_irq_enable()]));
    expect(v.violation?.kind).toBe('bad-bh-enable');
    expect(v.violation?.message).toContain('spin_unlock_bh(&L) with irqs disabled');
  });

  it('local_bh_enable in a hardirq handler', () => {
    const v = check(design([], { tasks: [], irqs: [{ name: 'eth0', handler: [local_bh_disable(), local_bh_enable()] }] }));
    expect(v.violation?.kind).toBe('bad-bh-enable');
    expect(v.violation?.message).toContain('in hardirq context');
    expect(v.violation?.context).toBe('hardirq eth0');
  });

  it('local_bh_enable with irqs on in a task is fine', () => {
    expect(check(design([local_bh_disable(), local_bh_enable()])).status).toBe('verified');
  });
});

describe('a softirq handler must return with the preempt count it entered with', () => {
  /** The irq raises NET_RX, whose handler is `handler`. */
  const leaky = (handler: readonly Stmt[]): Design =>
    design([], { tasks: [], irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')] }], softirqs: { NET_RX: handler } });

  it('bh count changed: lock-leak with the kernel\'s "huh, entered softirq" wording', () => {
    const v = check(leaky([local_bh_disable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    // kernel/softirq.c handle_softirqs: SOFTIRQ_OFFSET 0x100 on entry, plus SOFTIRQ_DISABLE_OFFSET 0x200 leaked.
    expect(v.violation?.message).toBe('huh, entered softirq 3 NET_RX with preempt_count 00000100, exited with 00000300?');
  });

  it('preempt count changed: the same wording', () => {
    const v = check(leaky([preempt_disable()]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toBe('huh, entered softirq 3 NET_RX with preempt_count 00000100, exited with 00000101?');
  });

  it('a spinlock still held: lock-leak; the kernel reports it as the preempt count it leaves behind ("huh, entered softirq")', () => {
    // handle_softirqs() has no held-lock check of its own: what the kernel prints is the
    // prev_count != preempt_count() warning, the spin_lock's preempt_count +1 included.
    const v = check(leaky([spin_lock('L')]));
    expect(v.violation?.kind).toBe('lock-leak');
    expect(v.violation?.message).toContain('huh, entered softirq 3 NET_RX with preempt_count 00000100, exited with 00000101?');
  });

  it('a balanced handler is fine', () => {
    expect(check(leaky([spin_lock('L'), local_bh_disable(), local_bh_enable(), spin_unlock('L')])).status).toBe('verified');
  });
});
