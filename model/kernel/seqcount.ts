/**
 * Sequence counters (include/linux/seqlock.h, Documentation/locking/seqlock.rst;
 * include/linux/u64_stats_sync.h; shared/kernel-semantics-drivers.md D5).
 *
 * A seqcount (design field `seqcounts`) is its sequence, even while stable
 * and odd inside a write section, and the context writing now. Declared
 * `{ lock: 'name' }` it is a seqcount_spinlock_t, or the seqcount of a
 * seqlock_t, whose serialising spinlock is that (declared) lock.
 *
 * Writers (do_write_seqcount_begin / do_write_seqcount_end): one step
 * each, sequence++. Since 5.10 write_seqcount_begin asserts its
 * serialisation (seqprop_assert): a plain seqcount_t needs preemption off
 * (lockdep_assert_preemption_disabled), a seqcount_LOCKNAME_t its lock held
 * (lockdep_assert_held): otherwise a WARNING, an `assertion`. A second
 * writer beginning while the sequence is odd breaks the rule the assert
 * stands for (writers must be serialised): the count goes odd → even
 * mid-update and readers accept torn data (u64_stats_sync.h point 3), a
 * `data-race`.
 *
 * Readers: read_seqcount_begin spins while the sequence is odd, then
 * returns it; read_seqcount_retry(s, start) (an expression) is true if the
 * sequence moved. A reader that interrupted the writer on its own CPU (a
 * hardirq or softirq over the write section) spins for ever: the writer
 * cannot go on until the reader's frame returns. The kernel calls it a
 * livelock (the CPU busy-loops reading the count); in the wait-for graph it
 * is an edge from the reader to the writer's context, and with the
 * interrupted-by edge a cycle: the model reports it as a `deadlock`, the
 * kind every wait that can never end is, with its cycle (B37).
 *
 * seqlock_t (write_seqlock and its _bh, _irq, _irqsave forms) is
 * spin_lock + write_seqcount_begin, and the reverse: expansions, two steps
 * each, as the kernel's inlines run them. u64_stats_update_begin/end and
 * u64_stats_fetch_begin/retry are the 32-bit SMP u64_stats_sync, where they
 * are this seqcount (on 64-bit kernels they compile to nothing: such a
 * design has no u64_stats to check).
 *
 * lockdep (model/check/lockdep.ts): a seqcount has a lockdep map, as
 * seqcount_init gives it one. The writer takes it exclusively at
 * write_seqcount_begin (do_write_seqcount_begin_nested: seqcount_acquire)
 * and holds it to write_seqcount_end (SEQCOUNT.lockdepMapsHeld); a reader
 * touches it as a recursive reader with irqs off at read_seqcount_begin,
 * before it spins (seqcount_lockdep_reader_access: seqcount_acquire_read,
 * seqcount_release). So a reader in hardirq and a writer with irqs on are
 * lockdep's {HARDIRQ-ON-W} -> {IN-HARDIRQ-R}.
 *
 * Not modelled: memory ordering (smp_wmb/smp_rmb: every step is
 * sequentially consistent), PREEMPT_RT's reader that takes the writer's
 * lock, read_seqbegin_or_lock, raw_write_seqcount_latch.
 */
import type { SeqcountDecl } from '../dsl/seqcount.ts';
import type { Stmt } from '../dsl/design.ts';
import { L_OWNER, X_PC } from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH } from './program.ts';
import type { Expansion, LockdepMapRef, Mechanism, ObjectKindSpec, OperandSpec, OpSemantics } from './semantics.ts';

const S_SEQ = 0; // the sequence
const S_WRITER = 1; // ctx + 1 of the context inside the write section, 0 none
const SEQCOUNT_SIZE = 2;

const seqOff = (m: Machine, id: number): number => m.objOff('seqcount', id, SEQCOUNT_SIZE);
const seqName = (m: Machine, id: number): string => `&${m.p.objects['seqcount']![id]!.name}`;
/** The serialising lock of a seqcount_LOCKNAME_t or seqlock_t, or -1. */
const lockOf = (m: Machine, id: number): number => m.p.objects['seqcount']![id]!.attrs['lock']!;

/** The sequence of seqcount `id` now (read_seqcount_retry's comparison, model/kernel/data.ts). */
export function sequenceOf(m: Machine, id: number): number {
  return m.s[seqOff(m, id) + S_SEQ]!;
}

const SEQ: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'seqcount' };
const textOf = (m: Machine, ctx: number): string => m.p.text[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;

/** write_seqcount_begin and u64_stats_update_begin: seqprop_assert, then sequence++. */
function writeBegin(name: string): OpSemantics {
  return {
    name,
    operands: [SEQ],
    // The seqcount; seqprop_assert reads its lock's owner, or (a bare seqcount_t) this CPU's preempt count and irq flag.
    footprint(f, a) {
      f.write(f.object('seqcount', a));
      const lock = f.program.objects['seqcount']![a]!.attrs['lock']!;
      f.read(lock >= 0 ? f.lock(lock) : f.ownCpu());
    },
    exec(m, cpu, ctx, a) {
      const o = seqOff(m, a);
      const lock = lockOf(m, a);
      if (lock >= 0) {
        if (m.s[m.lockOff(lock) + L_OWNER] !== ctx + 1) {
          m.fail('assertion', `WARNING: CPU: ${cpu} at include/linux/seqlock.h ${name}: lockdep_assert_held(&${m.lockName(lock)}): ${m.contextName(ctx)} writes ${seqName(m, a)} without its lock`, cpu, ctx);
          return;
        }
      } else if (!m.inAtomic(cpu) && !m.irqsOff(cpu)) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at include/linux/seqlock.h ${name}: lockdep_assert_preemption_disabled(): ${m.contextName(ctx)} writes ${seqName(m, a)} with preemption on (a reader preempting it would spin until it runs again)`, cpu, ctx);
        return;
      }
      const seq = m.s[o + S_SEQ]!;
      if ((seq & 1) !== 0) {
        const writer = m.s[o + S_WRITER]! - 1;
        m.fail('data-race', `seqcount: ${m.contextName(ctx)}: ${name}(${seqName(m, a)}) while ${writer >= 0 ? m.contextName(writer) : 'another writer'} is inside its write section (sequence ${seq} → ${seq + 1}): writers are not serialised, readers may take a half-written update for a stable one`, cpu, ctx);
        return;
      }
      // do_write_seqcount_begin_nested: seqcount_acquire(&s->dep_map, 0, 0, _RET_IP_), held to write_seqcount_end
      // (writerMapsHeld); lockdep sees the acquisition before the section is open.
      m.observer?.lockdepMap?.(m, cpu, ctx, { kind: 'seqcount', id: a }, m.irqsOff(cpu));
      m.w(o + S_SEQ, seq + 1);
      m.w(o + S_WRITER, ctx + 1);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const seq = m.s[seqOff(m, a) + S_SEQ]!;
      return `${textOf(m, ctx)}: sequence ${seq} → ${seq + 1}`;
    },
  };
}

/** write_seqcount_end and u64_stats_update_end: sequence++ (lockdep: seqcount_release). */
function writeEnd(name: string): OpSemantics {
  return {
    name,
    operands: [SEQ],
    footprint(f, a) {
      f.write(f.object('seqcount', a));
    },
    exec(m, cpu, ctx, a) {
      const o = seqOff(m, a);
      const seq = m.s[o + S_SEQ]!;
      if ((seq & 1) === 0 || m.s[o + S_WRITER] !== ctx + 1) {
        const writer = m.s[o + S_WRITER]! - 1;
        m.fail('lock-misuse', `WARNING: bad unlock balance detected! ${m.contextName(ctx)} is trying to release lock (${seqName(m, a)}): ${(seq & 1) === 0 ? 'no write section is open' : `the write section is ${writer >= 0 ? m.contextName(writer) : 'another context'}'s`} (${name})`, cpu, ctx);
        return;
      }
      m.w(o + S_SEQ, seq + 1);
      m.w(o + S_WRITER, 0);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const seq = m.s[seqOff(m, a) + S_SEQ]!;
      return `${textOf(m, ctx)}: sequence ${seq} → ${seq + 1}`;
    },
  };
}

/** read_seqcount_begin and u64_stats_fetch_begin: spin while the sequence is odd, then return it. */
function readBegin(name: string): OpSemantics {
  return {
    name,
    operands: [SEQ, { kind: 'reg-def', field: 'reg' }],
    // seqcount_lockdep_reader_access: local_irq_save; seqcount_acquire_read (a recursive read); seqcount_release;
    // local_irq_restore, before the spin (include/linux/seqlock.h read_seqcount_begin).
    lockdep: { action: 'touch-map', read: 2, map: 'seqcount', irqsOff: true },
    // The sequence: what it returns, and whether it spins.
    footprint(f, a) {
      f.read(f.object('seqcount', a));
    },
    ready(m, _cpu, _ctx, a) {
      return (m.s[seqOff(m, a) + S_SEQ]! & 1) === 0;
    },
    exec(m, _cpu, ctx, a, b) {
      m.setReg(ctx, b, m.s[seqOff(m, a) + S_SEQ]!);
      m.advance(ctx);
    },
    label(m, _cpu, ctx, a) {
      const seq = m.s[seqOff(m, a) + S_SEQ]!;
      return (seq & 1) === 0 ? `${textOf(m, ctx)} → ${seq}` : `${textOf(m, ctx)}: sequence ${seq} is odd, spins`;
    },
    waitsFor(m, _cpu, ctx, a) {
      const writer = m.s[seqOff(m, a) + S_WRITER]! - 1;
      return {
        on: writer >= 0 ? [writer] : [],
        why: `${m.contextName(ctx)}: ${name}(${seqName(m, a)}) spins while the sequence is odd: ${writer >= 0 ? `${m.contextName(writer)} is inside its write section` : 'a write section is open'}`,
      };
    },
  };
}

const SEQCOUNTS: ObjectKindSpec = {
  kind: 'seqcount',
  field: 'seqcounts',
  size: SEQCOUNT_SIZE,
  ctype: 'seqcount_t',
  declKeys: ['lock'],
  declare(_name, decl, d) {
    if (typeof decl !== 'object' || decl === null || Array.isArray(decl)) {
      return d.fail("declare a seqcount as {} (seqcount_t, u64_stats_sync) or { lock: 'its spinlock' } (seqcount_spinlock_t, the seqcount of a seqlock_t)");
    }
    const lock = (decl as SeqcountDecl).lock;
    if (lock !== undefined && typeof lock !== 'string') return d.fail('lock must name a declared spinlock');
    return { init: [0, 0], attrs: { lock: lock === undefined ? -1 : d.lockId(lock) } };
  },
  activeState(m, id) {
    const writer = m.s[seqOff(m, id) + S_WRITER]! - 1;
    return writer >= 0 ? `inside a write section of ${m.contextName(writer)}` : null;
  },
};

// ------------------------------------------------------------ seqlock_t

/** The lock of seqlock `name`, or the statement is a design error. */
function seqlockLock(st: Readonly<Record<string, unknown>>, x: Parameters<Expansion['expand']>[1]): string {
  const decl = x.declaration('seqcount', st.obj as string) as SeqcountDecl | undefined;
  if (decl === undefined) return x.fail(`unknown seqlock ${JSON.stringify(st.obj)}: declare it in seqcounts with its lock`);
  if (typeof decl.lock !== 'string') return x.fail(`'${String(st.obj)}' is a bare seqcount_t: a seqlock_t is declared with its lock, seqcounts: { '${String(st.obj)}': { lock: '…' } }`);
  return decl.lock;
}

type Flavour = '' | '_bh' | '_irq' | '_irqsave';
const LOCK_OP: Record<Flavour, [string, string]> = {
  '': ['spin_lock', 'spin_unlock'],
  _bh: ['spin_lock_bh', 'spin_unlock_bh'],
  _irq: ['spin_lock_irq', 'spin_unlock_irq'],
  _irqsave: ['spin_lock_irqsave', 'spin_unlock_irqrestore'],
};

/** write_seqlock*(sl) = spin_lock*(&sl->lock) + do_write_seqcount_begin; write_sequnlock* the reverse. */
function seqlockExpansions(flavour: Flavour): Expansion[] {
  const [lock, unlock] = LOCK_OP[flavour];
  const lockName = `write_seqlock${flavour}`;
  const unlockName = flavour === '_irqsave' ? 'write_sequnlock_irqrestore' : `write_sequnlock${flavour}`;
  const fields = flavour === '_irqsave' ? ['obj', 'flags'] : ['obj'];
  const flagsOf = (st: Readonly<Record<string, unknown>>): { flags?: string } => (flavour === '_irqsave' ? { flags: st.flags as string } : {});
  return [
    {
      name: lockName,
      fields,
      expand(st, x) {
        const l = seqlockLock(st, x);
        return {
          body: [{ op: lock, lock: l, ...flagsOf(st) } satisfies Stmt, { op: 'write_seqcount_begin', obj: st.obj as string }],
          text: `${lockName}(&${String(st.obj)}${flavour === '_irqsave' ? `, ${String(st.flags)}` : ''}): ${lock}(&${l})`,
        };
      },
    },
    {
      name: unlockName,
      fields,
      expand(st, x) {
        const l = seqlockLock(st, x);
        return {
          body: [{ op: 'write_seqcount_end', obj: st.obj as string }, { op: unlock, lock: l, ...flagsOf(st) } satisfies Stmt],
          text: `${unlockName}(&${String(st.obj)}): write_seqcount_end`,
        };
      },
    },
  ];
}

/** A writer inside its write section holds the seqcount's lockdep map (seqcount_acquire … seqcount_release). */
function writerMapsHeld(m: Machine, ctx: number): LockdepMapRef[] {
  const out: LockdepMapRef[] = [];
  const n = m.p.objects['seqcount']?.length ?? 0;
  for (let id = 0; id < n; id++) if (m.s[seqOff(m, id) + S_WRITER] === ctx + 1) out.push({ kind: 'seqcount', id });
  return out;
}

export const SEQCOUNT: Mechanism = {
  name: 'seqcount',
  // include/linux/seqlock.h: on PREEMPT_RT a reader of a seqcount_LOCKNAME_t that finds a write in progress takes the writer's lock.
  rtUnmodelled: 'on PREEMPT_RT a seqcount reader that finds a writer in progress blocks on the associated lock (seqprop_sequence), and seqlock_t is a sleeping spinlock_t',
  objects: [SEQCOUNTS],
  lockdepMapsHeld: writerMapsHeld,
  ops: [
    writeBegin('write_seqcount_begin'),
    writeEnd('write_seqcount_end'),
    readBegin('read_seqcount_begin'),
    writeBegin('u64_stats_update_begin'),
    writeEnd('u64_stats_update_end'),
    readBegin('u64_stats_fetch_begin'),
  ],
  expansions: [
    ...(['', '_bh', '_irq', '_irqsave'] as const).flatMap(seqlockExpansions),
    {
      // u64_stats_update_begin_irqsave (32-bit SMP): local_irq_save(flags); write_seqcount_begin(&syncp->seq).
      name: 'u64_stats_update_begin_irqsave',
      fields: ['obj', 'flags'],
      expand(st) {
        return {
          body: [{ op: 'local_irq_save', flags: st.flags as string }, { op: 'u64_stats_update_begin', obj: st.obj as string }],
          text: `${String(st.flags)} = u64_stats_update_begin_irqsave(&${String(st.obj)}): local_irq_save`,
        };
      },
    },
    {
      // u64_stats_update_end_irqrestore: write_seqcount_end(&syncp->seq); local_irq_restore(flags).
      name: 'u64_stats_update_end_irqrestore',
      fields: ['obj', 'flags'],
      expand(st) {
        return {
          body: [{ op: 'u64_stats_update_end', obj: st.obj as string }, { op: 'local_irq_restore', flags: st.flags as string }],
          text: `u64_stats_update_end_irqrestore(&${String(st.obj)}, ${String(st.flags)}): write_seqcount_end`,
        };
      },
    },
    {
      // read_seqbegin(sl) = read_seqcount_begin(&sl->seqcount).
      name: 'read_seqbegin',
      fields: ['obj', 'reg'],
      expand(st) {
        return { body: [{ op: 'read_seqcount_begin', obj: st.obj as string, reg: st.reg as string }], text: `${String(st.reg)} = read_seqbegin(&${String(st.obj)})` };
      },
    },
  ],
};
