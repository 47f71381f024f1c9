/**
 * Design data and control flow: shared and per-CPU integer variables, context
 * registers, bounded FIFO queues, expressions, branches, bounded loops and
 * BUG_ON/WARN_ON (include/asm-generic/bug.h). Not kernel mechanisms, but
 * the glue a design's code is written in.
 */
import { C_BH, C_SERVING, T_KTHREAD, X_CALLS, X_PC } from './layout.ts';
import type { Machine } from './machine.ts';
import { INSN_WIDTH, UNBOUNDED_LOOP } from './program.ts';
import type { Mechanism, OpSemantics } from './semantics.ts';
import { KTHREAD_SHOULD_STOP } from './kthread.ts';
import { sequenceOf } from './seqcount.ts';

// ----------------------------------------------------------- expressions
// Postfix pool: pairs (token, argument), ended by E_END.
export const E_END = 0;
export const E_CONST = 1;
export const E_VAR = 2;
export const E_REG = 3;
export const E_THIS_CPU = 4;
export const E_PER_CPU = 5; // arg = var * 16 + cpu
export const E_QLEN = 6;
export const E_QHEAD = 7;
export const E_CPU = 8;
export const E_BIN = 9; // arg = index into BINARY_FNS
export const E_NOT = 10;
export const E_CTX = 11; // arg = index into CONTEXT_PREDICATES (model/dsl/design.ts)
export const E_SEQ_RETRY = 12; // arg = seqcount id; pops the sequence read_seqcount_begin returned

/** The index of kthread_should_stop() in CONTEXT_PREDICATES: it reads the task's own block, the others this CPU's. */
export const CTX_KTHREAD_SHOULD_STOP = 8;

export const BINARY_FNS = ['+', '-', '==', '!=', '<', '<=', '>', '>=', '&&', '||'] as const;

const stack = new Int32Array(64);

/** Evaluate the expression at `off` in the pool, for `ctx` running on `cpu`. */
export function evaluate(m: Machine, cpu: number, ctx: number, off: number): number {
  const pool = m.p.exprs;
  const s = m.s;
  const L = m.L;
  let sp = 0;
  for (let i = off; ; i += 2) {
    const arg = pool[i + 1]!;
    switch (pool[i]) {
      case E_END:
        return stack[sp - 1]!;
      case E_CONST:
        stack[sp++] = arg;
        break;
      case E_VAR:
        stack[sp++] = s[L.varBase + arg]!;
        break;
      case E_REG:
        stack[sp++] = m.reg(ctx, arg);
        break;
      case E_THIS_CPU:
        stack[sp++] = s[L.percpuBase + arg * m.p.ncpu + cpu]!;
        break;
      case E_PER_CPU:
        stack[sp++] = s[L.percpuBase + (arg >> 4) * m.p.ncpu + (arg & 15)]!;
        break;
      case E_QLEN:
        stack[sp++] = s[L.queueBase[arg]!]!;
        break;
      case E_QHEAD: {
        const base = L.queueBase[arg]!;
        stack[sp++] = s[base]! > 0 ? s[base + 1]! : 0;
        break;
      }
      case E_CPU:
        stack[sp++] = cpu;
        break;
      case E_NOT:
        stack[sp - 1] = stack[sp - 1] === 0 ? 1 : 0;
        break;
      case E_CTX:
        stack[sp++] = contextPredicate(m, cpu, ctx, arg) ? 1 : 0;
        break;
      case E_SEQ_RETRY:
        // read_seqcount_retry(s, start): the sequence moved since read_seqcount_begin returned `start`.
        stack[sp - 1] = sequenceOf(m, arg) !== stack[sp - 1] ? 1 : 0;
        break;
      case E_BIN: {
        const y = stack[--sp]!;
        const x = stack[sp - 1]!;
        stack[sp - 1] = binary(arg, x, y);
        break;
      }
      default:
        throw new Error(`kdefer internal error: bad expression token ${pool[i]} at ${i}`);
    }
  }
}

/**
 * The context tests of include/linux/preempt.h (5.11+, with
 * CONFIG_PREEMPT_COUNT) and kthread_should_stop(), by their index in
 * CONTEXT_PREDICATES (shared/kernel-semantics-drivers.md D7).
 */
function contextPredicate(m: Machine, cpu: number, ctx: number, which: number): boolean {
  const co = m.cpuOff(cpu);
  switch (which) {
    case 0: return m.inInterrupt(cpu); // in_interrupt(): irq_count() = NMI | hardirq | softirq (serving or disabled)
    case 1: return m.inHardirq(cpu); // in_hardirq(): hardirq_count()
    case 2: return m.s[co + C_SERVING]! > 0 || m.s[co + C_BH]! > 0; // in_softirq(): softirq_count()
    case 3: return m.s[co + C_SERVING]! > 0; // in_serving_softirq(): softirq_count() & SOFTIRQ_OFFSET
    case 4: return m.inTask(cpu); // in_task(): !(in_nmi() | in_hardirq() | in_serving_softirq())
    case 5: return m.inAtomic(cpu); // in_atomic(): preempt_count() != 0
    case 6: return m.irqsOff(cpu); // irqs_disabled()
    case 7: return !m.inAtomic(cpu) && !m.irqsOff(cpu); // preemptible(): preempt_count() == 0 && !irqs_disabled()
    case CTX_KTHREAD_SHOULD_STOP: return m.isTask(ctx) && (m.s[m.ctxOff(ctx) + T_KTHREAD]! & KTHREAD_SHOULD_STOP) !== 0; // kthread_should_stop()
    default: throw new Error(`kdefer internal error: bad context predicate ${which}`);
  }
}

function binary(fn: number, x: number, y: number): number {
  switch (fn) {
    case 0: return (x + y) | 0;
    case 1: return (x - y) | 0;
    case 2: return x === y ? 1 : 0;
    case 3: return x !== y ? 1 : 0;
    case 4: return x < y ? 1 : 0;
    case 5: return x <= y ? 1 : 0;
    case 6: return x > y ? 1 : 0;
    case 7: return x >= y ? 1 : 0;
    case 8: return x !== 0 && y !== 0 ? 1 : 0;
    case 9: return x !== 0 || y !== 0 ? 1 : 0;
    default: throw new Error(`kdefer internal error: bad binary function ${fn}`);
  }
}

// ----------------------------------------------------------- operations

const pcOf = (m: Machine, ctx: number): number => m.s[m.ctxOff(ctx) + X_PC]!;
const whereOf = (m: Machine, ctx: number): string => m.p.where[pcOf(m, ctx) / INSN_WIDTH]!;

export const DATA_OPS: readonly OpSemantics[] = [
  {
    // Unconditional jump; the compiler emits it at the end of loop bodies and
    // then-branches. It is a step of its own so every pc has an op.
    name: 'jmp',
    internal: true,
    exec(m, _cpu, ctx, a) {
      m.jump(ctx, a);
    },
  },
  {
    // Branch: a = condition expression, b = target when the condition is 0.
    name: 'brz',
    internal: true,
    exec(m, cpu, ctx, a, b) {
      if (evaluate(m, cpu, ctx, a) === 0) m.jump(ctx, b);
      else m.advance(ctx);
    },
    label(m, cpu, ctx, a) {
      const text = m.p.text[pcOf(m, ctx) / INSN_WIDTH]!;
      return `${text} → ${evaluate(m, cpu, ctx, a) !== 0 ? 'true' : 'false'}`;
    },
  },
  {
    // Bounded while: a = condition, b = exit target, c = loop index (its
    // counter register and bound are in the program's loop table), or
    // UNBOUNDED_LOOP for `bound: 'none'`: no counter.
    name: 'while',
    internal: true,
    exec(m, cpu, ctx, a, b, c) {
      if (evaluate(m, cpu, ctx, a) === 0) {
        m.jump(ctx, b);
        return;
      }
      if (c === UNBOUNDED_LOOP) {
        m.advance(ctx);
        return;
      }
      const loop = m.p.loops[c]!;
      const n = m.reg(ctx, loop.reg) + 1;
      m.setReg(ctx, loop.reg, n);
      if (n > loop.bound) m.boundHit(c);
      m.advance(ctx);
    },
    label(m, cpu, ctx, a) {
      const text = m.p.text[pcOf(m, ctx) / INSN_WIDTH]!;
      return `${text} → ${evaluate(m, cpu, ctx, a) !== 0 ? 'true' : 'false'}`;
    },
  },
  {
    // Return from the context's code: from a call back into its caller, or
    // out of the context itself (task exit, irq_exit, …).
    name: 'ret',
    internal: true,
    exec(m, cpu, ctx) {
      if (m.s[m.ctxOff(ctx) + X_CALLS]! > 0) m.returnFromCall(ctx);
      else m.exitContext(cpu, ctx);
    },
  },
  {
    // either(b0, b1, …): a = the number of branches; a table of one jmp per
    // branch follows. The variant is the branch: the model explores each.
    name: 'either',
    internal: true,
    // Only the pc: the branch is the variant, not read from the state.
    footprint() {},
    variants(_m, _cpu, _ctx, a) {
      return a;
    },
    exec(m, _cpu, ctx, _a, _b, _c, variant) {
      const pc = pcOf(m, ctx);
      m.jump(ctx, m.code[pc + INSN_WIDTH * (1 + variant) + 1]!);
    },
    label(_m, _cpu, _ctx, a, _b, _c, variant) {
      return `either → branch ${variant + 1} of ${a}`;
    },
  },
  {
    name: 'load',
    operands: [{ kind: 'reg-def', field: 'reg' }, { kind: 'expr', field: 'value' }],
    footprint(f, _a, b) {
      f.expr(b);
    },
    exec(m, cpu, ctx, a, b) {
      m.setReg(ctx, a, evaluate(m, cpu, ctx, b));
      m.advance(ctx);
    },
  },
  {
    name: 'assign',
    operands: [{ kind: 'var', field: 'var' }, { kind: 'expr', field: 'value' }],
    footprint(f, a, b) {
      f.write(f.variable(a));
      f.expr(b);
    },
    exec(m, cpu, ctx, a, b) {
      m.w(m.L.varBase + a, evaluate(m, cpu, ctx, b));
      m.advance(ctx);
    },
  },
  {
    name: 'inc',
    operands: [{ kind: 'var', field: 'var' }],
    footprint(f, a) {
      f.write(f.variable(a));
    },
    exec(m, _cpu, ctx, a) {
      m.w(m.L.varBase + a, (m.s[m.L.varBase + a]! + 1) | 0);
      m.advance(ctx);
    },
  },
  {
    name: 'dec',
    operands: [{ kind: 'var', field: 'var' }],
    footprint(f, a) {
      f.write(f.variable(a));
    },
    exec(m, _cpu, ctx, a) {
      m.w(m.L.varBase + a, (m.s[m.L.varBase + a]! - 1) | 0);
      m.advance(ctx);
    },
  },
  {
    name: 'this_cpu_write',
    operands: [{ kind: 'percpu', field: 'var' }, { kind: 'expr', field: 'value' }],
    footprint(f, a, b) {
      f.write(f.ownPerCpu(a));
      f.expr(b);
    },
    exec(m, cpu, ctx, a, b) {
      m.w(m.L.percpuBase + a * m.p.ncpu + cpu, evaluate(m, cpu, ctx, b));
      m.advance(ctx);
    },
  },
  {
    name: 'per_cpu_write',
    operands: [{ kind: 'percpu', field: 'var' }, { kind: 'int', field: 'cpu', min: 0, max: 15 }, { kind: 'expr', field: 'value' }],
    footprint(f, a, b, c) {
      f.write(f.perCpu(a, b));
      f.expr(c);
    },
    exec(m, cpu, ctx, a, b, c) {
      m.w(m.L.percpuBase + a * m.p.ncpu + b, evaluate(m, cpu, ctx, c));
      m.advance(ctx);
    },
  },
  {
    name: 'this_cpu_inc',
    operands: [{ kind: 'percpu', field: 'var' }],
    footprint(f, a) {
      f.write(f.ownPerCpu(a));
    },
    exec(m, cpu, ctx, a) {
      const off = m.L.percpuBase + a * m.p.ncpu + cpu;
      m.w(off, (m.s[off]! + 1) | 0);
      m.advance(ctx);
    },
  },
  {
    name: 'enqueue',
    operands: [{ kind: 'queue', field: 'queue' }, { kind: 'expr', field: 'value' }],
    footprint(f, a, b) {
      f.write(f.queue(a));
      f.expr(b);
    },
    exec(m, cpu, ctx, a, b) {
      const base = m.L.queueBase[a]!;
      const len = m.s[base]!;
      const q = m.p.queues[a]!;
      if (len >= q.capacity) {
        m.fail('assertion', `kernel BUG at ${whereOf(m, ctx)}: queue '${q.name}' overflows its capacity ${q.capacity}`, cpu, ctx);
        return;
      }
      m.w(base + 1 + len, evaluate(m, cpu, ctx, b));
      m.w(base, len + 1);
      m.advance(ctx);
    },
  },
  {
    name: 'dequeue',
    operands: [{ kind: 'queue', field: 'queue' }, { kind: 'reg-def', field: 'reg' }],
    footprint(f, a) {
      f.write(f.queue(a));
    },
    exec(m, _cpu, ctx, a, b) {
      const base = m.L.queueBase[a]!;
      const len = m.s[base]!;
      if (len === 0) {
        m.setReg(ctx, b, 0);
      } else {
        m.setReg(ctx, b, m.s[base + 1]!);
        // Shift so that equal queues have equal representations.
        for (let i = base + 1; i < base + len; i++) m.w(i, m.s[i + 1]!);
        m.w(base + len, 0);
        m.w(base, len - 1);
      }
      m.advance(ctx);
    },
  },
  {
    name: 'BUG_ON',
    operands: [{ kind: 'expr', field: 'cond' }],
    extraFields: ['message'],
    footprint(f, a) {
      f.expr(a);
    },
    exec(m, cpu, ctx, a) {
      if (evaluate(m, cpu, ctx, a) !== 0) {
        m.fail('assertion', `kernel BUG at ${whereOf(m, ctx)}! (${m.p.text[pcOf(m, ctx) / INSN_WIDTH]})`, cpu, ctx);
        return;
      }
      m.advance(ctx);
    },
  },
  {
    name: 'WARN_ON',
    operands: [{ kind: 'expr', field: 'cond' }],
    extraFields: ['message'],
    footprint(f, a) {
      f.expr(a);
    },
    exec(m, cpu, ctx, a) {
      if (evaluate(m, cpu, ctx, a) !== 0) {
        m.fail('assertion', `WARNING: CPU: ${cpu} at ${whereOf(m, ctx)} (${m.p.text[pcOf(m, ctx) / INSN_WIDTH]})`, cpu, ctx);
        return;
      }
      m.advance(ctx);
    },
  },
];

export const DATA: Mechanism = { name: 'data', ops: DATA_OPS };
