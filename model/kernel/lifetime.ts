/**
 * Object lifetime: kmalloc'ed structs (design field `structs`) holding
 * variables, locks, queues, timers, tasklets and work items; kfree() and
 * every touch after it (mm/slub.c kfree; KASAN's use-after-free report;
 * lib/debugobjects.c "ODEBUG: free active object").
 *
 * A struct exists from the start, or, declared `allocated: false`, from its
 * kmalloc (include/linux/slab.h; shared/kernel-semantics-drivers.md D9):
 * touching it before is a NULL dereference (KASAN's null-ptr-deref, kind
 * use-after-free). kmalloc with GFP_KERNEL may sleep: might_sleep()
 * (might_alloc, mm/slab.h slab_pre_alloc_hook) whether or not it does, and
 * the model offers a sleep in direct reclaim (the task blocks, and wakes at
 * any later point). GFP_ATOMIC and GFP_NOWAIT never sleep. With `mayFail`
 * any of them may return NULL (a choice): the struct stays unallocated and
 * the design's failure path runs. A struct models one allocation: a second
 * kmalloc of it is a kdefer limit.
 *
 * - kfree of a struct whose timer is pending, tasklet scheduled or work
 *   queued is reported at once (debug_check_no_obj_freed), like ODEBUG;
 * - a struct freed twice is a double free;
 * - freeing a struct with a lock inside still held is lockdep's "held lock
 *   freed!";
 * - any instruction that touches a member after the free (a callback still
 *   running after del_timer, an arming, a read) is KASAN's
 *   slab-use-after-free. Instructions know at compile time which structs
 *   they touch (Program.insnStructs), so the check costs one load per step.
 */
import { L_OWNER, L_READERS, X_PHASE } from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import { OBJECT_KINDS } from './registry.ts';
import { block, Chan, channel, mightSleep, sleeps } from './scheduler.ts';
import type { FootprintBuilder, Mechanism, ObjectKindSpec, OpSemantics } from './semantics.ts';

const STRUCT_SIZE = 1; // StructState

/** The state word of a struct. */
export const enum StructState {
  Live = 0,
  Freed = 1,
  /** Declared `allocated: false` and not (yet) kmalloc'ed: the pointer is NULL. */
  Unallocated = 2,
}

const structOff = (m: Machine, id: number): number => m.objOff('struct', id, STRUCT_SIZE);
const structName = (m: Machine, id: number): string => m.p.objects['struct']![id]!.name;
const membersOf = (m: Machine, id: number): readonly string[] => m.p.structMembers[id] ?? [];

/** The struct whose members include `name` (a variable, lock, queue or object, or one embedded in an object), or -1. */
export function structOf(m: Machine, name: string): number {
  return m.p.structMembers.findIndex((members) => members.includes(name));
}

/** Whether struct `id` is freed or not allocated: its members may not be touched. */
export function structGone(m: Machine, id: number): boolean {
  return id >= 0 && m.s[structOff(m, id)] !== StructState.Live;
}

/** KASAN's report of a touch of struct `id` while it is gone, by `what` (a context, or kernel code). */
export function goneMessage(m: Machine, id: number, where: string, who: string, what: string): string {
  const name = structName(m, id);
  return m.s[structOff(m, id)] === StructState.Unallocated
    ? `BUG: KASAN: null-ptr-deref in ${where}: ${who} touches ${name} before it was allocated (kmalloc): ${what}`
    : `BUG: KASAN: slab-use-after-free in ${where}: ${who} touches ${name} after kfree(${name}): ${what}`;
}

const STRUCTS: ObjectKindSpec = {
  kind: 'struct',
  declKeys: ['members', 'allocated'],
  field: 'structs',
  size: STRUCT_SIZE,
  wordRoles: ['plain'],
  declare(_name, decl, d) {
    if (typeof decl !== 'object' || decl === null) return d.fail('declare a struct as { members: [...] }');
    const allocated = (decl as { allocated?: unknown }).allocated ?? true;
    if (typeof allocated !== 'boolean') return d.fail('allocated must be true or false (false: it exists only after kmalloc)');
    return { init: [allocated ? StructState.Live : StructState.Unallocated] };
  },
};

/** What is still live in struct `id` as it is freed, or null. */
function activeMember(m: Machine, id: number): { kind: 'lock' | 'object'; text: string } | null {
  for (const member of membersOf(m, id)) {
    const lock = m.p.locks.findIndex((l) => l.name === member);
    if (lock >= 0) {
      const lo = m.lockOff(lock);
      if (m.s[lo + L_OWNER] !== 0 || m.s[lo + L_READERS] !== 0) return { kind: 'lock', text: `&${member}` };
      continue;
    }
    for (const spec of OBJECT_KINDS) {
      if (!spec.activeState) continue;
      const oid = m.p.objects[spec.kind]?.findIndex((o) => o.name === member) ?? -1;
      if (oid < 0) continue;
      const state = spec.activeState(m, oid);
      if (state) return { kind: 'object', text: `object type: ${spec.ctype ?? spec.kind} (${member}) ${state}` };
    }
  }
  return null;
}

/**
 * kfree(struct `id`) by `ctx`: the double-free, held-lock and ODEBUG checks,
 * then the struct is gone. False (after m.fail) on a violation. Also the
 * free of an RCU callback (kfree_rcu, rcu.ts) and of a socket (sk_free).
 */
export function freeStruct(m: Machine, cpu: number, ctx: number, id: number, what = `kfree(${m.p.objects['struct']![id]!.name})`): boolean {
  const off = structOff(m, id);
  const name = structName(m, id);
  if (m.s[off] === StructState.Freed) {
    m.fail('use-after-free', `BUG: KASAN: double-free in ${m.contextName(ctx)}: ${what} of an object already freed`, cpu, ctx);
    return false;
  }
  if (m.s[off] === StructState.Unallocated) return true; // kfree(NULL) is a no-op
  const live = activeMember(m, id);
  if (live?.kind === 'lock') {
    m.fail('lock-misuse', `WARNING: held lock freed! ${m.contextName(ctx)} is freeing memory of ${name}, with a lock still held there: ${live.text}`, cpu, ctx);
    return false;
  }
  if (live) {
    m.fail('use-after-free', `ODEBUG: free active (active state 0) ${live.text}: ${what} by ${m.contextName(ctx)}; it will run or be touched after the free`, cpu, ctx);
    return false;
  }
  m.w(off, StructState.Freed);
  return true;
}

/**
 * The footprint of freeStruct(struct `id`): the struct's word (which every
 * instruction touching a member reads, through the guard), and what
 * activeMember reads: each member lock's words and each member object of a
 * kind with an activeState (its own words).
 */
export function freesStruct(f: FootprintBuilder, id: number): void {
  const p = f.program;
  f.write(f.object('struct', id));
  for (const member of p.structMembers[id] ?? []) {
    const lock = p.locks.findIndex((l) => l.name === member);
    if (lock >= 0) {
      f.read(f.lock(lock));
      continue;
    }
    for (const spec of OBJECT_KINDS) {
      if (!spec.activeState) continue;
      const oid = p.objects[spec.kind]?.findIndex((o) => o.name === member) ?? -1;
      if (oid >= 0) f.read(f.object(spec.kind, oid));
    }
  }
}

const GFP_SLEEPS = (gfp: number): boolean => gfp === 0;
const GFP_NAMES = ['GFP_KERNEL', 'GFP_ATOMIC', 'GFP_NOWAIT'] as const;
/** kmalloc's outcomes, by variant. */
const enum Alloc {
  Succeeds = 0,
  /** GFP_KERNEL: direct reclaim sleeps first. */
  Sleeps = 1,
  Fails = 2,
}
/** The outcomes kmalloc offers: [succeed, (sleep in reclaim), (fail)]. */
function allocOutcomes(gfp: number, mayFail: boolean): Alloc[] {
  return [Alloc.Succeeds, ...(GFP_SLEEPS(gfp) ? [Alloc.Sleeps] : []), ...(mayFail ? [Alloc.Fails] : [])];
}

/**
 * kmalloc / kzalloc (mm/slub.c __kmalloc → slab_alloc_node): a = struct |
 * (result register + 1) << 16, b = gfp index | mayFail << 16. Variants:
 * succeed, (GFP_KERNEL) sleep in direct reclaim first, (mayFail) fail.
 */
function kmallocOp(name: string): OpSemantics {
  const struct = (a: number): number => a & 0xffff;
  const resultReg = (a: number): number => (a >>> 16) - 1;
  const outcomes = (b: number): Alloc[] => allocOutcomes(b & 0xffff, (b >>> 16) !== 0);
  const head = (m: Machine, a: number, b: number): string =>
    `${resultReg(a) >= 0 ? `${m.p.regs[resultReg(a)]} = ` : ''}${name}(${structName(m, struct(a))}, ${GFP_NAMES[b & 0xffff]})`;
  return {
    name,
    operands: [
      { kind: 'object', field: 'obj', objectKind: 'struct' },
      { kind: 'reg-def', field: 'reg', optional: true, packed: true },
      { kind: 'gfp', field: 'gfp' },
      { kind: 'flag', field: 'mayFail', packed: true },
    ],
    variants(m, _cpu, ctx, _a, b) {
      return m.s[m.ctxOff(ctx) + X_PHASE] === 1 ? 1 : outcomes(b).length;
    },
    // The struct's word; GFP_KERNEL: might_alloc reads this CPU, and the reclaim sleeps (the task
    // leaves the CPU, and only its own timeout wakes it).
    footprint(f, a, b) {
      f.write(f.object('struct', struct(a)));
      if (GFP_SLEEPS(b & 0xffff)) sleeps(f);
    },
    exec(m, cpu, ctx, a, b, _c, variant) {
      const o = m.ctxOff(ctx);
      const id = struct(a);
      const reg = resultReg(a);
      const text = `${name}(${structName(m, id)}, ${GFP_NAMES[b & 0xffff]})`;
      if (m.s[o + X_PHASE] === 0) {
        // might_alloc(gfp): GFP_KERNEL may sleep, whether or not this call does.
        if (GFP_SLEEPS(b & 0xffff) && !mightSleep(m, cpu, ctx, text)) return;
        const outcome = outcomes(b)[variant]!;
        if (outcome === Alloc.Sleeps) {
          m.w(o + X_PHASE, 1);
          block(m, cpu, ctx, channel(Chan.Timeout, ctx));
          return;
        }
        if (outcome === Alloc.Fails) {
          if (reg >= 0) m.setReg(ctx, reg, 0);
          m.advance(ctx);
          return;
        }
      }
      if (m.s[structOff(m, id)] !== StructState.Unallocated) {
        throw new Error(`kdefer limit: ${text} by ${m.contextName(ctx)}: struct ${structName(m, id)} is ${m.s[structOff(m, id)] === StructState.Freed ? 'freed' : 'already allocated'}; a struct models one allocation (declare it allocated: false, and one struct per allocation)`);
      }
      m.w(structOff(m, id), StructState.Live);
      if (reg >= 0) m.setReg(ctx, reg, 1);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a, b, _c, variant) {
      if (m.s[m.ctxOff(ctx) + X_PHASE] === 1) return `${head(m, a, b)}: reclaim done, allocated`;
      switch (outcomes(b)[variant]) {
        case Alloc.Succeeds: return `${head(m, a, b)}: allocated`;
        case Alloc.Sleeps: return `${head(m, a, b)}: sleeps in direct reclaim`;
        default: return `${head(m, a, b)}: fails, returns NULL`;
      }
    },
    waitsFor(m, _cpu, ctx) {
      return { on: [], why: `${m.contextName(ctx)} sleeps in direct reclaim (kmalloc GFP_KERNEL)` };
    },
  };
}

export const LIFETIME: Mechanism = {
  name: 'lifetime',
  objects: [STRUCTS],
  ops: [
    {
      name: 'kfree',
      operands: [{ kind: 'object', field: 'obj', objectKind: 'struct' }],
      footprint(f, a) {
        freesStruct(f, a);
      },
      exec(m, cpu, ctx, a) {
        if (freeStruct(m, cpu, ctx, a)) m.advance(ctx);
      },
    },
    kmallocOp('kmalloc'),
    kmallocOp('kzalloc'),
  ],
  guard(m, cpu, ctx, pc) {
    const touched = m.p.insnStructs[pc / INSN_WIDTH]!;
    if (touched === 0) return true;
    const list = m.p.objects['struct']!;
    for (let id = 0; id < list.length; id++) {
      if ((touched & (1 << id)) !== 0 && m.s[structOff(m, id)] !== StructState.Live) {
        m.fail('use-after-free', goneMessage(m, id, m.p.where[pc / INSN_WIDTH]!, `${m.contextName(ctx)} on cpu${cpu}`, m.p.text[pc / INSN_WIDTH]!), cpu, ctx);
        return false;
      }
    }
    return true;
  },
};
