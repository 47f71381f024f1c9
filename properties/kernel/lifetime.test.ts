/**
 * Object lifetime (model/kernel/lifetime.ts): kfree of a struct, every
 * touch of its members afterwards (KASAN slab-use-after-free), a double
 * free, freeing with a lock inside held (lockdep "held lock freed!"), and
 * freeing while a timer, tasklet or work inside is still active (ODEBUG
 * "free active").
 */
import { describe, expect, it } from 'vitest';
import {
  assign, check, compile, defineDesign, DesignError, eq, if_, inc, kfree, mod_timer, schedule_work, spin_lock, spin_unlock,
  tasklet_schedule, v, type Design, type Stmt,
} from '../../model/index.ts';

const one = (body: readonly Stmt[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'lifetime',
  cpus: 1,
  vars: { 'priv->count': 0, other: 0 },
  locks: { 'priv->lock': 'spinlock' },
  structs: { priv: { members: ['priv->count', 'priv->lock'] } },
  tasks: [{ name: 'driver', cpu: 0, body }],
  ...extra,
});

describe('kfree and what follows it', () => {
  it('touching a member after kfree is KASAN slab-use-after-free, naming the context and the statement', () => {
    const v1 = check(one([kfree('priv'), inc('priv->count')]));
    expect(v1.violation?.kind).toBe('use-after-free');
    expect(v1.violation?.message).toMatch(/^BUG: KASAN: slab-use-after-free in task driver\[1\]: task driver on cpu0 touches priv after kfree\(priv\): priv->count\+\+$/);
  });

  it('reading a member in a branch condition after kfree is a use too', () => {
    expect(check(one([kfree('priv'), if_(eq(v('priv->count'), 0), [inc('other')])])).violation?.kind).toBe('use-after-free');
  });

  it('taking a lock that lived in the freed struct is a use', () => {
    expect(check(one([kfree('priv'), spin_lock('priv->lock'), spin_unlock('priv->lock')])).violation?.kind).toBe('use-after-free');
  });

  it('data outside the struct stays usable after kfree', () => {
    expect(check(one([kfree('priv'), inc('other'), assign('other', 2)])).status).toBe('verified');
  });

  it('a second kfree is a double free', () => {
    const v2 = check(one([kfree('priv'), kfree('priv')]));
    expect(v2.violation?.kind).toBe('use-after-free');
    expect(v2.violation?.message).toContain('BUG: KASAN: double-free');
  });

  it("freeing a struct whose lock is held is lockdep's held lock freed", () => {
    const v3 = check(one([spin_lock('priv->lock'), kfree('priv'), spin_unlock('priv->lock')]));
    expect(v3.violation?.kind).toBe('lock-misuse');
    expect(v3.violation?.message).toMatch(/^WARNING: held lock freed! .*&priv->lock$/);
  });

  it('a use on another CPU after the free is found whichever CPU frees', () => {
    const d = defineDesign({
      name: 'two-cpus', cpus: 2, vars: { 'priv->count': 0 }, structs: { priv: { members: ['priv->count'] } },
      tasks: [{ name: 'remover', cpu: 0, body: [kfree('priv')] }, { name: 'user', cpu: 1, body: [inc('priv->count')] }],
    });
    const v4 = check(d);
    expect(v4.violation?.kind).toBe('use-after-free');
    expect(v4.violation?.trace).toEqual(['cpu0 [task remover]: kfree(&priv)', 'cpu1 [task user]: priv->count++']);
  });
});

describe('freeing an active timer, tasklet or work (ODEBUG free active)', () => {
  const active = (member: Partial<Design>, arm: Stmt): Design => defineDesign({
    name: 'active', cpus: 1, vars: { n: 0 },
    functions: { fn: [inc('n')] },
    ...member,
    tasks: [{ name: 'driver', cpu: 0, body: [arm, kfree('priv')] }],
  });

  it('a pending timer', () => {
    const d = active({ timers: { 'priv->timer': { func: 'fn' } }, structs: { priv: { members: ['priv->timer'] } }, options: { ticks: 1 } }, mod_timer('priv->timer', 1));
    const r = check(d);
    expect(r.violation?.kind).toBe('use-after-free');
    expect(r.violation?.message).toMatch(/^ODEBUG: free active .*priv->timer/);
  });

  it('a scheduled tasklet', () => {
    const d = active({ tasklets: { 'priv->t': { func: 'fn' } }, structs: { priv: { members: ['priv->t'] } } }, tasklet_schedule('priv->t'));
    const r = check(d);
    expect(r.violation?.kind).toBe('use-after-free');
    expect(r.violation?.message).toMatch(/^ODEBUG: free active .*priv->t/);
  });

  it('a queued work item', () => {
    const d = active({ works: { 'priv->w': { func: 'fn' } }, structs: { priv: { members: ['priv->w'] } } }, schedule_work('priv->w'));
    const r = check(d);
    expect(r.violation?.kind).toBe('use-after-free');
    expect(r.violation?.message).toMatch(/^ODEBUG: free active .*priv->w/);
  });
});

describe('struct declarations', () => {
  it('an unknown member is a design error naming the struct', () => {
    expect(() => compile(one([], { structs: { priv: { members: ['priv->nope'] } } })))
      .toThrow(/design 'lifetime': structs\['priv'\]: member 'priv->nope' is not a declared variable, lock, queue or object/);
  });

  it('a member of two structs is a design error', () => {
    expect(() => compile(one([], { structs: { a: { members: ['other'] }, b: { members: ['other'] } } })))
      .toThrow(DesignError);
  });
});
