/**
 * Object lifetime: kmalloc'ed structs (design field `structs`) holding
 * variables, locks, queues, timers, tasklets and work items; kfree() and
 * every touch after it (mm/slub.c kfree; KASAN's use-after-free report;
 * lib/debugobjects.c "ODEBUG: free active object").
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
import { L_OWNER, L_READERS } from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import { OBJECT_KINDS } from './registry.ts';
import type { Mechanism, ObjectKindSpec } from './semantics.ts';

const STRUCT_SIZE = 1; // freed flag

const structOff = (m: Machine, id: number): number => m.objOff('struct', id, STRUCT_SIZE);
const structName = (m: Machine, id: number): string => m.p.objects['struct']![id]!.name;
const membersOf = (m: Machine, id: number): readonly string[] => m.p.design.structs?.[structName(m, id)]?.members ?? [];

const STRUCTS: ObjectKindSpec = {
  kind: 'struct',
  declKeys: ['members'],
  field: 'structs',
  size: STRUCT_SIZE,
  wordRoles: ['plain'],
  declare(_name, decl, d) {
    if (typeof decl !== 'object' || decl === null) return d.fail('declare a struct as { members: [...] }');
    return { init: [0] };
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

export const LIFETIME: Mechanism = {
  name: 'lifetime',
  objects: [STRUCTS],
  ops: [
    {
      name: 'kfree',
      operands: [{ kind: 'object', field: 'obj', objectKind: 'struct' }],
      exec(m, cpu, ctx, a) {
        const off = structOff(m, a);
        const name = structName(m, a);
        if (m.s[off] !== 0) {
          m.fail('use-after-free', `BUG: KASAN: double-free in ${m.contextName(ctx)}: kfree(${name}) of an object already freed`, cpu, ctx);
          return;
        }
        const live = activeMember(m, a);
        if (live?.kind === 'lock') {
          m.fail('lock-misuse', `WARNING: held lock freed! ${m.contextName(ctx)} is freeing memory of ${name}, with a lock still held there: ${live.text}`, cpu, ctx);
          return;
        }
        if (live) {
          m.fail('use-after-free', `ODEBUG: free active (active state 0) ${live.text}: kfree(${name}) by ${m.contextName(ctx)}; it will run or be touched after the free`, cpu, ctx);
          return;
        }
        m.w(off, 1);
        m.advance(ctx);
      },
    },
  ],
  guard(m, cpu, ctx, pc) {
    const touched = m.p.insnStructs[pc / INSN_WIDTH]!;
    if (touched === 0) return true;
    const list = m.p.objects['struct']!;
    for (let id = 0; id < list.length; id++) {
      if ((touched & (1 << id)) !== 0 && m.s[structOff(m, id)] !== 0) {
        m.fail('use-after-free', `BUG: KASAN: slab-use-after-free in ${m.p.where[pc / INSN_WIDTH]}: ${m.contextName(ctx)} on cpu${cpu} touches ${structName(m, id)} after kfree(${structName(m, id)}): ${m.p.text[pc / INSN_WIDTH]}`, cpu, ctx);
        return false;
      }
    }
    return true;
  },
};
