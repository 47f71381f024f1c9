/**
 * model/dsl/compile.ts: a malformed design is refused when it is built,
 * with an error naming the design and the statement's position; the
 * fingerprint hashes exactly what shapes behaviour; functions are inlined so
 * one function can run from several contexts.
 */
import { describe, expect, it } from 'vitest';
import {
  assign, BUG_ON, call, check, compile, DesignError, defineDesign, eq, fingerprintOf, if_, inc, kref_put, kthread_run, load, local_irq_restore,
  local_irq_save, not, per_cpu_sum, r, raise_softirq, read_lock, repeat, spin_lock, spin_lock_irqsave, spin_unlock,
  spin_unlock_irqrestore, test_and_set_bit, this_cpu_inc, v, while_, write_seqlock, type Design, type SoftirqName, type Stmt,
} from '../../model/index.ts';
import { Schedule } from '../helpers/schedule.ts';

/** A well-formed base: design 'bad', 2 CPUs, task `t` on cpu0 running `body`. */
const base = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'bad', cpus: 2, locks: { L: 'spinlock', R: 'rwlock' }, vars: { x: 0 },
  tasks: [{ name: 't', cpu: 0, body }],
  softirqs: { NET_RX: [inc('x')] },
  ...extra,
});

/** The DesignError compile() throws for `design`; fails the test if it compiles. */
function designError(design: Design): DesignError {
  try {
    compile(design);
  } catch (e) {
    if (e instanceof DesignError) return e;
    throw e;
  }
  throw new Error(`design '${design.name}' compiled, but an error was expected`);
}

describe('build-time errors name the design and the position', () => {
  it('an unknown lock', () => {
    const e = designError(base([inc('x'), spin_lock('nope')]));
    expect(e.design).toBe('bad');
    expect(e.where).toBe('task t[1]');
    expect(e.message).toBe("design 'bad': task t[1]: spin_lock(&nope): unknown lock 'nope' (declared: L, R)");
  });

  it('a lock of the wrong kind: read_lock on a spinlock, spin_lock on an rwlock', () => {
    const rd = designError(base([read_lock('L')]));
    expect(rd.where).toBe('task t[0]');
    expect(rd.message).toContain("read_lock needs a rwlock_t, but 'L' is a spinlock_t");
    const sp = designError(base([spin_lock('R')]));
    expect(sp.message).toContain("spin_lock needs a spinlock_t, but 'R' is a rwlock_t");
  });

  it('a register used before it is set: spin_unlock_irqrestore without a prior save', () => {
    const e = designError(base([spin_lock('L'), spin_unlock_irqrestore('L', 'flags')]));
    expect(e.where).toBe('task t[1]');
    expect(e.message).toContain("spin_unlock_irqrestore: register 'flags' is used before it is set");
  });

  it('a register set on only one branch of an if is not set after it', () => {
    const oneBranch = [if_(eq(v('x'), 0), [local_irq_save('f')]), local_irq_restore('f')];
    expect(designError(base(oneBranch)).where).toBe('task t[1]');
    const thenOnly = [if_(eq(v('x'), 0), [local_irq_save('f')], [inc('x')]), local_irq_restore('f')];
    expect(designError(base(thenOnly)).where).toBe('task t[1]');
    const elseOnly = [if_(eq(v('x'), 0), [inc('x')], [local_irq_save('f')]), local_irq_restore('f')];
    expect(designError(base(elseOnly)).where).toBe('task t[1]');
    const bothBranches = [if_(eq(v('x'), 0), [local_irq_save('f')], [local_irq_save('f')]), local_irq_restore('f')];
    expect(() => compile(base(bothBranches))).not.toThrow();
  });

  it('registers belong to one context: a handler cannot restore flags its task saved', () => {
    const e = designError(base([local_irq_save('flags'), local_irq_restore('flags')], { irqs: [{ name: 'eth0', handler: [local_irq_restore('flags')] }] }));
    expect(e.where).toBe('irq eth0[0]');
    expect(e.message).toContain("register 'flags' is used before it is set");
  });

  it('a register read in an expression before it is set', () => {
    const e = designError(base([BUG_ON(eq({ reg: 'r' }, 1))]));
    expect(e.message).toContain("register 'r' is used before it is set");
  });

  it('while_ without a bound, or with a bound out of range', () => {
    const noBound = { op: 'while', cond: eq(v('x'), 0), body: [inc('x')] } as unknown as Stmt;
    const e = designError(base([inc('x'), noBound]));
    expect(e.where).toBe('task t[1]');
    expect(e.message).toContain('a while loop needs a bound');
    for (const bound of [0, 65, 1.5]) expect(designError(base([while_(eq(v('x'), 0), [inc('x')], { bound })])).message).toContain('needs a bound');
    expect(() => compile(base([while_(eq(v('x'), 0), [inc('x')], { bound: 64 })]))).not.toThrow();
  });

  it('an unknown function', () => {
    const e = designError(base([call('nope')], { functions: { helper: [inc('x')] } }));
    expect(e.where).toBe('task t[0]');
    expect(e.message).toContain('call of unknown function "nope" (defined: helper)');
  });

  it('a recursive call, direct or through another function', () => {
    const e = designError(base([call('f')], { functions: { f: [inc('x'), call('g')], g: [call('f')] } }));
    expect(e.message).toContain('recursive call f → g → f');
    expect(e.where).toBe('task t[0] → f()[1] → g()[0]');
    expect(designError(base([call('f')], { functions: { f: [call('f')] } })).message).toContain('recursive call f → f');
  });

  it('an error inside a function names the call path', () => {
    const e = designError(base([inc('x'), call('f')], { functions: { f: [inc('x'), spin_lock('nope')] } }));
    expect(e.where).toBe('task t[1] → f()[1]');
  });

  it('a task on a CPU the design does not have', () => {
    const e = designError(base([], { tasks: [{ name: 'late', cpu: 2, body: [] }] }));
    expect(e.where).toBe('task late');
    expect(e.message).toContain("cpu 2 is not one of the design's 2 CPUs");
  });

  it('an interrupt line whose affinity names a CPU the design does not have', () => {
    const e = designError(base([], { irqs: [{ name: 'eth0', cpus: [0, 3], handler: [] }] }));
    expect(e.where).toBe('irq eth0');
    expect(e.message).toContain('affinity [0,3]');
  });

  it('an unknown softirq vector, as a handler or in a raise', () => {
    const handler = designError(base([], { softirqs: { FOO: [] } as unknown as Design['softirqs'] }));
    expect(handler.where).toBe('softirqs.FOO');
    expect(handler.message).toContain('unknown softirq vector');
    const raise = designError(base([raise_softirq('FOO' as SoftirqName)]));
    expect(raise.where).toBe('task t[0]');
    expect(raise.message).toContain('raise_softirq: unknown softirq vector "FOO"');
  });

  it('a raise of a vector the design has no handler for', () => {
    const e = designError(base([raise_softirq('BLOCK')]));
    expect(e.where).toBe('task t[0]');
    expect(e.message).toContain('raise_softirq(BLOCK): the design has no BLOCK softirq handler');
  });

  it('an unknown operation, and an internal one written in a design', () => {
    expect(designError(base([{ op: 'spin_lokc', lock: 'L' }])).message).toContain("unknown operation 'spin_lokc'");
    expect(designError(base([{ op: 'jmp' }])).message).toContain("unknown operation 'jmp'");
  });

  it('an unknown variable in an expression', () => {
    const e = designError(base([BUG_ON(eq(v('nope'), 1))]));
    expect(e.message).toContain("unknown variable 'nope' (declared: x)");
  });

  it('an unknown profile, an unknown flag, a flag with a bad value', () => {
    const profile = designError(base([], { profile: '2.2' as Design['profile'] }));
    expect(profile.where).toBe('profile');
    expect(profile.message).toContain("unknown kernel profile '2.2'");
    const flag = designError(base([], { flags: { bogus: true } as unknown as Design['flags'] }));
    expect(flag.where).toBe('flags');
    expect(flag.message).toContain("unknown kernel flag 'bogus'");
    const value = designError(base([], { flags: { rwlock: 'fair' } as unknown as Design['flags'] }));
    expect(value.where).toBe('flags');
    expect(value.message).toContain("kernel flag 'rwlock' cannot be \"fair\"");
  });

  it('a CPU count out of range, a design with nothing to run, a design without a name', () => {
    expect(designError(base([], { cpus: 9 })).where).toBe('cpus');
    expect(designError(base([], { cpus: 0 })).where).toBe('cpus');
    expect(designError(base([], { tasks: [] })).message).toContain('no context can ever run');
    expect(designError(base([], { tasks: [], irqs: [{ name: 'eth0', handler: [], budget: 0 }] })).message).toContain('no context can ever run');
    expect(designError(base([], { name: '' })).message).toContain("needs a non-empty 'name'");
  });

  it('check() refuses a malformed design with the same error', () => {
    expect(() => check(base([spin_lock('nope')]))).toThrow(DesignError);
  });
});

describe('the fingerprint', () => {
  const d = base([spin_lock('L'), inc('x'), spin_unlock('L')], { name: 'fp' });

  it('is 16 hex digits and the same for the same design, however its keys are ordered', () => {
    const fp = fingerprintOf(d);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(structuredClone(d))).toBe(fp);
    const reordered = Object.fromEntries(Object.entries(d).reverse()) as unknown as Design;
    expect(fingerprintOf(reordered)).toBe(fp);
    expect(compile(d).fingerprint).toBe(fp);
  });

  it('is stable across runs and machines (pinned)', () => {
    // A change here invalidates every fingerprint printed with an old verdict: change it on purpose only.
    expect(fingerprintOf(d)).toBe(PINNED_FINGERPRINT);
  });

  it('changes when the code, the locks, the bounds, the flags or the name change', () => {
    const fp = fingerprintOf(d);
    const variants: Design[] = [
      base([spin_lock('L'), inc('x'), inc('x'), spin_unlock('L')], { name: 'fp' }),
      base([spin_lock('L'), { op: 'dec', var: 'x' }, spin_unlock('L')], { name: 'fp' }),
      { ...d, cpus: 1 },
      { ...d, locks: { L: 'spinlock', R: 'rwlock', S: 'spinlock' } },
      { ...d, irqs: [{ name: 'eth0', handler: [], budget: 2 }] },
      { ...d, flags: { rwlock: 'reader-biased' } },
      { ...d, name: 'fp2' },
    ];
    for (const other of variants) expect(fingerprintOf(other)).not.toBe(fp);
  });

  it('does not change with `expected`, `description` or `twin`', () => {
    const fp = fingerprintOf(d);
    expect(fingerprintOf({ ...d, expected: 'deadlock' })).toBe(fp);
    expect(fingerprintOf({ ...d, expected: 'verified', description: 'a different story', twin: 'fp-fixed' })).toBe(fp);
  });

  it('does not change with `assumes` or a task\'s `replicable` (documentation and --grow\'s business), but does with the task itself', () => {
    const fp = fingerprintOf(d);
    expect(fingerprintOf({ ...d, assumes: [{ bound: 'cpus', why: 'one remover' }] })).toBe(fp);
    expect(fingerprintOf({ ...d, tasks: d.tasks.map((t) => ({ ...t, replicable: true })) })).toBe(fp);
    expect(fingerprintOf({ ...d, tasks: d.tasks.map((t) => ({ ...t, replicable: true, name: 'u' })) })).not.toBe(fp);
  });
});

describe('assumes and replicable', () => {
  const d = base([inc('x')], { irqs: [{ name: 'eth0', handler: [inc('x')] }] });

  it('an assumption names a bound the design has, or none', () => {
    for (const bound of ['cpus', 'ticks', 'loops', 'preempt', 'irq eth0', undefined]) {
      const a = bound === undefined ? { why: 'one remover' } : { bound, why: 'one remover' };
      expect(() => compile({ ...d, assumes: [a] })).not.toThrow();
    }
    expect(designError({ ...d, assumes: [{ bound: 'irq eth1', why: 'x' }] }).message)
      .toBe("design 'bad': assumes[0]: unknown bound 'irq eth1' (did you mean 'irq eth0'?)");
    expect(designError({ ...d, assumes: [{ bound: 'cpus' } as never] }).message).toBe("design 'bad': assumes[0]: an assumption needs its text in 'why'");
    expect(designError({ ...d, assumes: [{ bound: 'cpus', whyy: 'x' } as never] }).message).toContain("assumes[0]: unknown key 'whyy' (did you mean 'why'?)");
    expect(designError({ ...d, assumes: 'one remover' as never }).message).toContain('assumes: must be a list of { bound?, why }');
  });

  it('replicable is true or false', () => {
    expect(() => compile({ ...d, tasks: [{ ...d.tasks[0]!, replicable: true }] })).not.toThrow();
    expect(designError({ ...d, tasks: [{ ...d.tasks[0]!, replicable: 'yes' as never }] }).message)
      .toBe("design 'bad': task t: replicable must be true or false, got \"yes\"");
  });

  it('the verdict carries the assumptions, never reads them', () => {
    const assumes = [{ bound: 'irq eth0', why: 'one packet' }];
    const v = check({ ...d, assumes });
    expect(v.assumptions).toEqual(assumes);
    expect(check(d).assumptions).toEqual([]);
    expect(v.stats.states).toBe(check(d).stats.states);
  });
});

describe('per_cpu_sum adds up every CPU\'s copy, however many CPUs', () => {
  const counting = (cpus: number): Design => defineDesign({
    name: 'sum', cpus, percpu: { hits: 5 }, vars: { total: 0 },
    tasks: [...Array(cpus).keys()].map((c) => ({ name: `t${c}`, cpu: c, body: [this_cpu_inc('hits'), load('s', per_cpu_sum('hits')), assign('total', r('s'))] })),
  });

  it('reads every copy: its text, and its value at the end of a run', () => {
    for (const cpus of [1, 2, 3]) {
      const p = compile(counting(cpus));
      expect(p.text).toContain('s = per_cpu_sum(hits)');
      const s = new Schedule(counting(cpus)).runToEnd();
      expect(s.variable('total')).toBeLessThanOrEqual(6 * cpus);
      expect(s.variable('total')).toBeGreaterThanOrEqual(5 * cpus + 1);
    }
  });

  it('an at-end invariant over it holds for any number of CPUs', () => {
    for (const cpus of [1, 2, 3]) {
      const inv = { name: 'all counted', holds: eq(per_cpu_sum('hits'), 6 * cpus), when: 'at-end' as const };
      expect(check({ ...counting(cpus), invariants: [inv] }).status).toBe('verified');
      const wrong = { ...inv, holds: eq(per_cpu_sum('hits'), 6 * cpus - 1) };
      expect(check({ ...counting(cpus), invariants: [wrong] }).violation?.kind).toBe('assertion');
    }
  });

  it('names an unknown per-CPU variable', () => {
    expect(designError({ ...counting(1), invariants: [{ name: 'x', holds: eq(per_cpu_sum('nope'), 0) }] }).message)
      .toContain("unknown per-CPU variable 'nope'");
  });
});

describe('functions are inlined: the same function runs from a task and from an irq handler', () => {
  const shared = (fn: readonly Stmt[]): Design => defineDesign({
    name: 'shared-function', cpus: 1, locks: { L: 'spinlock' }, vars: { count: 0 },
    functions: { bump: fn },
    tasks: [{ name: 't', cpu: 0, body: [call('bump')] }],
    irqs: [{ name: 'eth0', handler: [call('bump')] }],
  });

  it('each call site is compiled with its own position', () => {
    const p = compile(shared([spin_lock('L'), inc('count'), spin_unlock('L')]));
    expect(p.where).toContain('task t[0] → bump()[1]');
    expect(p.where).toContain('irq eth0[0] → bump()[1]');
  });

  it('runs in each context as that context: the AA deadlock of spin_lock in both is found', () => {
    const s = new Schedule(shared([spin_lock('L'), inc('count'), spin_unlock('L')]))
      .run('[task t]: spin_lock(&L)', 'eth0 interrupt arrives', '[hardirq eth0]: spin_lock(&L)');
    expect(s.can('[hardirq eth0]')).toBe(false);
    const v = check(shared([spin_lock('L'), inc('count'), spin_unlock('L')]));
    expect(v.violation?.kind).toBe('deadlock');
  });

  it('with the irqsave form, each context keeps its own flags register: verified', () => {
    const fn = [spin_lock_irqsave('L', 'flags'), inc('count'), spin_unlock_irqrestore('L', 'flags')];
    expect(check(shared(fn)).status).toBe('verified');
    const s = new Schedule(shared(fn)).runToEnd(['eth0 interrupt arrives']);
    expect(s.variable('count')).toBe(2);
    expect(s.labels).toContain('cpu0 [hardirq eth0]: count++');
    expect(s.labels).toContain('cpu0 [task t]: count++');
  });

  it('repeat unrolls its body', () => {
    const s = new Schedule(base([repeat(3, [inc('x')])])).runToEnd();
    expect(s.variable('x')).toBe(3);
    expect(s.violation()).toBeNull();
  });

  it('a function may be called several times in a row (not recursion)', () => {
    const s = new Schedule(base([call('f'), call('f')], { functions: { f: [inc('x')] } })).runToEnd();
    expect(s.variable('x')).toBe(2);
  });
});

// fingerprintOf(base([spin_lock('L'), inc('x'), spin_unlock('L')], { name: 'fp' })) as of this test's writing.
const PINNED_FINGERPRINT = 'ca7b3f477eca980c';

describe('the driver constructs of issue 11', () => {
  it('a call as a branch condition is a step of its own, then the branch; a call that returns nothing cannot be one', () => {
    const d = base([if_(test_and_set_bit(0, 'x'), [inc('x')]), if_(not(test_and_set_bit(1, 'x')), [inc('x')])]);
    const s = new Schedule(d);
    s.run('test_and_set_bit(0, &x) → 0', 'if (test_and_set_bit(0, &x)) → false', 'test_and_set_bit(1, &x) → 0', 'if (!test_and_set_bit(1, &x)) → true', 'x++');
    expect(designError(base([if_(spin_lock('L'), [])])).message).toContain('spin_lock() returns nothing to branch on');
  });

  it('an expansion is checked like an operation: its fields, its own errors, and the names it suggests', () => {
    expect(designError(base([{ op: 'kref_put', var: 'x', fn: 'f', lock: 'L' } as unknown as Stmt], { functions: { f: [] } })).message).toContain("unknown field of kref_put() 'lock'");
    expect(designError(base([{ op: 'kref_put', var: 'x' } as unknown as Stmt])).message).toContain('kref_put needs its release function');
    expect(designError(base([{ op: 'kref_pt', var: 'x', fn: 'f' } as unknown as Stmt], { functions: { f: [] } })).message).toContain("did you mean 'kref_put'?");
    expect(designError(base([write_seqlock('s')], { seqcounts: { s: {} } })).message).toContain("'s' is a bare seqcount_t");
  });

  it('an expansion keeps the position of the statement it expands, and its first step is named after it', () => {
    const p = compile(base([kref_put('x', 'f')], { vars: { x: 1 }, functions: { f: [] } }));
    const first = p.where.indexOf('task t[0]');
    expect(p.text[first]).toBe('kref_put(&x, f)');
    expect(p.where.filter((w) => w === 'task t[0]').length).toBeGreaterThan(1);
  });

  it('task start and after: a kthread_run thread needs its kthread_run, after needs a known task and no cycle', () => {
    const two = (tasks: Design['tasks']) => defineDesign({ name: 'bad', cpus: 2, vars: { x: 0 }, tasks });
    expect(designError(two([{ name: 'a', cpu: 0, after: 'a', body: [] }])).message).toMatch(/after/);
    expect(designError(two([{ name: 'a', cpu: 0, body: [] }, { name: 'b', cpu: 1, after: 'c', body: [] }])).message).toContain('after "c" must name another task');
    expect(designError(two([{ name: 'a', cpu: 0, body: [kthread_run('a')] }])).message).toContain('kthread_run');
  });

  it('irq lines: start request_irq, a thread, flags', () => {
    const irq = (spec: Record<string, unknown>) => base([], { irqs: [{ name: 'dev', ...spec } as never] });
    expect(designError(irq({ handler: [], start: 'probe' })).message).toContain('start');
    expect(designError(irq({})).message).toContain('has no handler');
    expect(designError(irq({ handler: [], flags: ['ONESHOT'] })).message).toContain('ONESHOT');
    expect(() => compile(irq({ thread: [inc('x')], flags: ['ONESHOT'] }))).not.toThrow();
    expect(() => compile(irq({ handler: [inc('x')], thread: [inc('x')] }))).not.toThrow();
  });

  it('structs embed the objects of their members, and allocated must be a boolean', () => {
    expect(designError(base([], { structs: { p: { members: ['nope'] } } })).message).toContain('nope');
    expect(designError(base([], { structs: { p: { members: ['x'], allocated: 'no' as never } } })).message).toContain('allocated must be true or false');
  });
});
