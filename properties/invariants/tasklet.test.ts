/**
 * The tasklet guarantees T1–T5 (shared/kernel-semantics.md §3.2), each
 * checked as a fast-check property over random schedules of designs that
 * exercise them: every state a schedule reaches, or every terminal state,
 * or the sequence of events along the schedule.
 *
 * A schedule is a list of picks (each picks among the enabled choices,
 * modulo their count, as model/explore/random.ts does); the events are read
 * from the labels of the choices taken:
 *   E  an effective schedule: `tasklet_schedule(&t): queued …` (SCHED was clear)
 *   N  a schedule that found SCHED set: `… SCHED already set, nothing to do`
 *   S  a start of func: `… run t: clear SCHED, call …`
 *   U  the end of a run: `… t's func returned: tasklet_unlock(&t)`
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compile, defineDesign, inc, local_bh_disable, local_bh_enable, Machine, tasklet_disable_nosync, tasklet_enable,
  tasklet_schedule, type Design, type Program,
} from '../../model/index.ts';
import { C_CURTASK, C_DEPTH, FrameKind, H_BOUND_HIT, H_VIOL_KIND, X_KIND, X_PC } from '../../model/kernel/layout.ts';
import { INSN_WIDTH } from '../../model/kernel/program.ts';
import { opcodeOf } from '../../model/kernel/registry.ts';

const SEED = 20240613;
const RUNS = 300;
const picksArb = fc.array(fc.nat({ max: 0xffff }), { maxLength: 400 });

/** The code of tasklet `name`'s func: from its entry to its `ret`. */
function funcRegion(p: Program, name: string): { start: number; end: number } {
  const start = p.objects['tasklet']!.find((o) => o.name === name)!.attrs['func']!;
  const ret = opcodeOf('ret')!;
  let end = start;
  while (p.code[end] !== ret) end += INSN_WIDTH;
  return { start, end };
}

/** CPUs with some context (running or interrupted) inside `region`. */
function cpusInside(m: Machine, s: Int32Array, region: { start: number; end: number }): number[] {
  const out: number[] = [];
  const inside = (ctx: number) => {
    const pc = s[m.ctxOff(ctx) + X_PC]!;
    return pc >= region.start && pc <= region.end;
  };
  for (let cpu = 0; cpu < m.p.ncpu; cpu++) {
    const co = m.cpuOff(cpu);
    const task = s[co + C_CURTASK]!;
    let hit = task >= 0 && inside(task);
    for (let d = 0; d < s[co + C_DEPTH]!; d++) hit ||= inside(m.frameCtx(cpu, d));
    if (hit) out.push(cpu);
  }
  return out;
}

interface Walk {
  /** Labels of the choices taken. */
  readonly labels: string[];
  /** Whether the schedule ended cleanly: nothing enabled, no violation, no bound hit. */
  readonly clean: boolean;
}

/** Follow `picks` through `p` (then the first choice), calling `visit` on every state reached. */
function walk(p: Program, picks: readonly number[], visit: (m: Machine, s: Int32Array) => void, maxSteps = 3000): Walk {
  const m = new Machine(p);
  let s = m.initial();
  const labels: string[] = [];
  visit(m, s);
  for (let i = 0; i < maxSteps; i++) {
    const en = m.enabled(s);
    if (en.length === 0) return { labels, clean: s[H_VIOL_KIND] === 0 && s[H_BOUND_HIT] === 0 };
    const c = en[i < picks.length ? picks[i]! % en.length : 0]!;
    labels.push(m.label(s, c));
    s = m.step(s, c);
    visit(m, s);
  }
  throw new Error(`schedule ran past ${maxSteps} steps`);
}

/** The E/N/S/U events of tasklet `t` along a schedule. */
function events(labels: readonly string[], t: string): string[] {
  return labels.flatMap((l) => {
    if (l.includes(`tasklet_schedule(&${t}): queued`)) return ['E'];
    if (l.includes(`tasklet_schedule(&${t}): SCHED already set`)) return ['N'];
    if (l.includes(`: run ${t}: clear SCHED`)) return ['S'];
    if (l.includes(`${t}'s func returned: tasklet_unlock`)) return ['U'];
    return [];
  });
}

/**
 * One tasklet t (three steps long) scheduled from interrupts on both CPUs,
 * from a task with bottom halves disabled (several schedules before it can
 * start), and from a task with bottom halves on (ksoftirqd); it is briefly
 * disabled and re-enabled on the way.
 */
const busyTasklet: Design = defineDesign({
  name: 'tasklet-invariants',
  cpus: 2,
  vars: { n: 0 },
  functions: { t_func: [inc('n'), inc('n'), inc('n')] },
  tasklets: { t: { func: 't_func' } },
  tasks: [
    { name: 'batch', cpu: 0, body: [local_bh_disable(), tasklet_schedule('t'), tasklet_schedule('t'), tasklet_schedule('t'), local_bh_enable()] },
    { name: 'kick', cpu: 1, body: [tasklet_disable_nosync('t'), tasklet_schedule('t'), tasklet_enable('t'), tasklet_schedule('t')] },
  ],
  irqs: [{ name: 'eth0', handler: [tasklet_schedule('t')], budget: 2 }],
});

describe('T1: func never runs on two CPUs at once', () => {
  it('in every state of every sampled schedule, at most one CPU is inside t\'s func', () => {
    const p = compile(busyTasklet);
    const region = funcRegion(p, 't');
    let overlapsSeen = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      walk(p, picks, (m, s) => {
        const inside = cpusInside(m, s, region);
        expect(inside.length).toBeLessThanOrEqual(1);
        overlapsSeen += inside.length;
      });
    }), { seed: SEED, numRuns: RUNS });
    expect(overlapsSeen).toBeGreaterThan(0); // the property is not vacuous: func does run
  });

  it('the check can fail: the same code as a softirq on two CPUs is seen on both', () => {
    const asSoftirq = compile(defineDesign({
      name: 'softirq-counterpart', cpus: 2, vars: { n: 0 },
      softirqs: { NET_RX: [inc('n'), inc('n'), inc('n')] },
      tasks: [],
      irqs: [{ name: 'eth0', handler: [{ op: 'raise_softirq', vec: 'NET_RX' }], budget: 2 }],
    }));
    const region = { start: asSoftirq.softirqEntry[3]!, end: asSoftirq.softirqEntry[3]! + 3 * INSN_WIDTH };
    const details = fc.check(fc.property(picksArb, (picks) => {
      walk(asSoftirq, picks, (m, s) => {
        if (cpusInside(m, s, region).length > 1) throw new Error('two CPUs inside');
      });
    }), { seed: SEED, numRuns: RUNS });
    expect(details.failed).toBe(true);
  });
});

describe('T2: every schedule is followed by a start of func (count back at 0)', () => {
  it('at the end of every sampled schedule, the last start comes after the last schedule', () => {
    const p = compile(busyTasklet);
    let ended = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      const w = walk(p, picks, () => {});
      if (!w.clean) return;
      ended++;
      const ev = events(w.labels, 't');
      const lastSchedule = Math.max(ev.lastIndexOf('E'), ev.lastIndexOf('N'));
      expect(ev.lastIndexOf('S')).toBeGreaterThan(lastSchedule);
    }), { seed: SEED, numRuns: RUNS });
    expect(ended).toBeGreaterThan(RUNS / 2);
  });
});

describe('T3: schedules before the next start give one run', () => {
  it('effective schedules and starts alternate, E S E S …; the schedules that found SCHED set add no run', () => {
    const p = compile(busyTasklet);
    let redundant = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      const w = walk(p, picks, () => {});
      const es = events(w.labels, 't').filter((e) => e === 'E' || e === 'S').join('');
      expect(es).toMatch(w.clean ? /^(ES)*$/ : /^(ES)*E?$/);
      redundant += events(w.labels, 't').filter((e) => e === 'N').length;
    }), { seed: SEED, numRuns: RUNS });
    expect(redundant).toBeGreaterThan(0); // several schedules before a start do happen
  });

  it('three schedules with bottom halves off, before any can start, run func exactly once', () => {
    const p = compile(defineDesign({ ...busyTasklet, name: 'three-schedules', tasks: [busyTasklet.tasks[0]!], irqs: [] }));
    fc.assert(fc.property(picksArb, (picks) => {
      const w = walk(p, picks, () => {});
      expect(w.clean).toBe(true);
      expect(events(w.labels, 't')).toEqual(['E', 'N', 'N', 'S', 'U']);
    }), { seed: SEED, numRuns: 50 });
  });
});

describe('T4: scheduling during a run gives exactly one more run, which never overlaps it', () => {
  it('an effective schedule while t runs is followed by one start, after the running one ended', () => {
    const p = compile(busyTasklet);
    let duringRun = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      const w = walk(p, picks, () => {});
      const ev = events(w.labels, 't');
      let running = false;
      for (let i = 0; i < ev.length; i++) {
        if (ev[i] === 'S') running = true;
        if (ev[i] === 'U') running = false;
        if (ev[i] === 'E' && running) {
          duringRun++;
          const rest = ev.slice(i + 1);
          // The run in progress ends (U) before the next start (S), and only one start follows before the next E.
          const nextS = rest.indexOf('S');
          if (nextS >= 0) expect(rest.slice(0, nextS)).toContain('U');
          else expect(w.clean).toBe(false);
          const nextE = rest.indexOf('E');
          expect(rest.slice(0, nextE < 0 ? rest.length : nextE).filter((e) => e === 'S').length).toBeLessThanOrEqual(1);
        }
      }
    }), { seed: SEED, numRuns: RUNS });
    expect(duringRun).toBeGreaterThan(0);
  });
});

describe('T5: different tasklets run in parallel across CPUs; on one CPU everything is serialised', () => {
  const twoTasklets: Design = defineDesign({
    name: 'two-tasklets',
    cpus: 2,
    vars: { a: 0, b: 0 },
    functions: { a_func: [inc('a'), inc('a')], b_func: [inc('b'), inc('b')] },
    tasklets: { ta: { func: 'a_func' }, tb: { func: 'b_func' } },
    tasks: [],
    irqs: [
      { name: 'eth0', handler: [tasklet_schedule('ta'), tasklet_schedule('tb')], budget: 2 },
      { name: 'eth1', handler: [tasklet_schedule('tb')], budget: 1 },
    ],
  });

  it('some sampled schedule runs ta on one CPU while tb runs on the other', () => {
    const p = compile(twoTasklets);
    const [ra, rb] = [funcRegion(p, 'ta'), funcRegion(p, 'tb')];
    const details = fc.check(fc.property(picksArb, (picks) => {
      walk(p, picks, (m, s) => {
        const [ca, cb] = [cpusInside(m, s, ra), cpusInside(m, s, rb)];
        if (ca.length === 1 && cb.length === 1 && ca[0] !== cb[0]) throw new Error(`ta on cpu${ca[0]} and tb on cpu${cb[0]} at once`);
      });
    }), { seed: SEED, numRuns: RUNS });
    expect(details.failed).toBe(true);
    expect(String(details.errorInstance)).toMatch(/ta on cpu\d and tb on cpu\d at once/);
  });

  it('in every state, a CPU has at most one softirq frame and is inside at most one tasklet func, with nothing but hardirqs above it', () => {
    const p = compile(twoTasklets);
    const regions = [funcRegion(p, 'ta'), funcRegion(p, 'tb')];
    fc.assert(fc.property(picksArb, (picks) => {
      walk(p, picks, (m, s) => {
        for (let cpu = 0; cpu < m.p.ncpu; cpu++) {
          const depth = s[m.cpuOff(cpu) + C_DEPTH]!;
          const kinds: number[] = [];
          let inFunc = -1;
          for (let d = 0; d < depth; d++) {
            const ctx = m.frameCtx(cpu, d);
            kinds.push(s[m.ctxOff(ctx) + X_KIND]!);
            const pc = s[m.ctxOff(ctx) + X_PC]!;
            if (regions.some((r) => pc >= r.start && pc <= r.end)) {
              expect(inFunc, `cpu${cpu}: two frames inside tasklet funcs`).toBe(-1);
              inFunc = d;
            }
          }
          expect(kinds.filter((k) => k === FrameKind.Softirq || k === FrameKind.Ksoftirqd).length).toBeLessThanOrEqual(1);
          if (inFunc >= 0) for (const k of kinds.slice(inFunc + 1)) expect(k).toBe(FrameKind.Hardirq);
        }
      });
    }), { seed: SEED, numRuns: RUNS });
  });
});
