/**
 * Design → program. Validates the design (every error names the design and
 * the statement's position), inlines function calls, unrolls `repeat`,
 * lowers `if`/`while` to branches, and resolves names to integer ids.
 */
import { createHash } from 'node:crypto';
import { FLAG_NAMES, PROFILES, resolveFlags } from '../kernel/flags.ts';
import {
  BINARY_FNS, E_BIN, E_CONST, E_CPU, E_CTX, E_END, E_NOT, E_PER_CPU, E_QHEAD, E_QLEN, E_REG, E_SEQ_RETRY, E_THIS_CPU, E_VAR,
} from '../kernel/data.ts';
import type { Program, ProgramInvariant, ProgramIrq, ProgramLock, ProgramLoop, ProgramObject, ProgramQueue, ProgramTask, SleepSite } from '../kernel/program.ts';
import { isViolationKind, VIOLATION_KINDS } from '../check/violation.ts';
import { NIBBLE_LOCKS } from '../kernel/held-locks.ts';
import { isLockKind, LOCK_KIND_NAMES, LOCK_KINDS, type LockKind } from '../kernel/lock-kinds.ts';
import { INSN_WIDTH, UNBOUNDED_LOOP } from '../kernel/program.ts';
import { BUILTINS, EXPANSION_MECHANISM, EXPANSIONS, MECHANISMS, OBJECT_KINDS, OP_MECHANISM, OPS, opcodeOf } from '../kernel/registry.ts';
import { RT_OP_PREFIX } from '../kernel/spinlock.ts';
import type { DeclareContext, Embedded, ExpandContext, OperandSpec, ProgramShape } from '../kernel/semantics.ts';
import { SOFTIRQ_LOOP_PC } from '../kernel/softirq.ts';
import { computeLiveness, keepAllRegisters } from './liveness.ts';
import { DEFAULT_TICKS } from './timer.ts';
import {
  ASSUMPTION_KEYS, BOUND_NAMES, CALL_KEYS, checkKeys, DESIGN_KEYS, EITHER_KEYS, EXPR_FORMS, IF_KEYS, INVARIANT_KEYS, IRQ_KEYS, irqBound, LOCK_DECL_KEYS,
  nearest, OPTION_KEYS, QUEUE_KEYS, REPEAT_KEYS, STRUCT_KEYS, TASK_KEYS, TRYLOCK_KEYS, unknownKeyProblem, WHILE_KEYS,
} from './strict.ts';
import {
  CONTEXT_PREDICATES, SOFTIRQS, type Design, type EitherStmt, type Expr, type Invariant, type IfStmt, type IrqFlag, type RepeatStmt, type Stmt,
  type TaskSpec, type Trylock, type WhileStmt,
} from './design.ts';

/** A mistake in a design, found when it is built. */
export class DesignError extends Error {
  readonly design: string;
  readonly where: string;
  constructor(design: string, where: string, problem: string) {
    super(`design '${design}'${where ? `: ${where}` : ''}: ${problem}`);
    this.name = 'DesignError';
    this.design = design;
    this.where = where;
  }
}

export const MAX_CPUS = 8;
export const MAX_LOCKS = 31;
export const MAX_LOOP_BOUND = 64;
export const MAX_REPEAT = 64;
export const MAX_QUEUE_CAPACITY = 64;
export const MAX_BUDGET = 16;

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Canonical JSON: object keys sorted, so equal designs hash equal. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (isObject(x)) {
    return `{${Object.keys(x).sort().filter((k) => x[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`).join(',')}}`;
  }
  return JSON.stringify(x);
}

/**
 * The design's fingerprint: a hash of everything that shapes its behaviour
 * (its name and code, not its description or claimed verdict).
 */
export function fingerprintOf(design: Design): string {
  // `assumes` and a task's `replicable` are documentation and --grow's business, like `description`.
  const { expected: _e, description: _d, twin: _t, assumes: _a, ...rest } = design;
  const tasks = Array.isArray(rest.tasks)
    ? rest.tasks.map((t: TaskSpec) => {
      if (!isObject(t) || !('replicable' in t)) return t;
      const { replicable: _r, ...u } = t;
      return u;
    })
    : rest.tasks;
  return createHash('sha256').update(canonical({ ...rest, tasks })).digest('hex').slice(0, 16);
}

/**
 * `assumes`: a list of `{ bound?, why }`, each `bound` one the design has
 * (BOUND_NAMES, or `irq <line>` of one of its lines).
 */
function checkAssumptions(design: Design, lines: readonly string[], err: (where: string, problem: string) => DesignError): void {
  if (design.assumes === undefined) return;
  if (!Array.isArray(design.assumes)) throw err('assumes', "must be a list of { bound?, why }, e.g. [{ bound: 'irq eth0', why: 'two segments' }]");
  const bounds = [...BOUND_NAMES, ...lines.map(irqBound)];
  design.assumes.forEach((a: unknown, i) => {
    const where = `assumes[${i}]`;
    if (!isObject(a)) throw err(where, "an assumption is { bound?, why }, e.g. { bound: 'cpus', why: 'one remover' }");
    checkKeys(a, ASSUMPTION_KEYS, (problem) => { throw err(where, problem); });
    if (typeof a.why !== 'string' || a.why.trim() === '') throw err(where, "an assumption needs its text in 'why'");
    if (a.bound !== undefined && (typeof a.bound !== 'string' || !bounds.includes(a.bound))) {
      throw err(where, unknownKeyProblem(String(a.bound), bounds, 'bound'));
    }
  });
}

/** Kernel text of an expression, e.g. `count + 1`. */
export function exprText(e: Expr): string {
  if (typeof e === 'number') return String(e);
  if ('var' in e) return e.var;
  if ('reg' in e) return e.reg;
  if ('this_cpu' in e) return `this_cpu_read(${e.this_cpu})`;
  if ('per_cpu' in e) return `per_cpu(${e.per_cpu}, ${e.cpu})`;
  if ('per_cpu_sum' in e) return `per_cpu_sum(${e.per_cpu_sum})`;
  if ('queue_len' in e) return `skb_queue_len(&${e.queue_len})`;
  if ('queue_head' in e) return `skb_peek(&${e.queue_head})`;
  if ('smp_processor_id' in e) return 'smp_processor_id()';
  if ('ctx' in e) return `${e.ctx}()`;
  if ('seq_retry' in e) return `read_seqcount_retry(&${e.seq_retry}, ${exprText(e.seq)})`;
  if (e.fn === '!') return `!${wrap(e.args[0]!)}`;
  return `${wrap(e.args[0]!)} ${e.fn} ${wrap(e.args[1]!)}`;
}
const wrap = (e: Expr): string => (typeof e === 'object' && 'fn' in e ? `(${exprText(e)})` : exprText(e));

/** Kernel text of a statement, as shown in traces. */
export function stmtText(st: Stmt | { op: string; [k: string]: unknown }): string {
  const x = st as Record<string, unknown>;
  const lock = typeof x.lock === 'string' ? `&${x.lock}` : '';
  switch (x.op) {
    case 'assign': return `WRITE_ONCE(${String(x.var)}, ${exprText(x.value as Expr)})`;
    case 'inc': return `${String(x.var)}++`;
    case 'dec': return `${String(x.var)}--`;
    case 'load': return `${String(x.reg)} = ${exprText(x.value as Expr)}`;
    case 'this_cpu_write': return `this_cpu_write(${String(x.var)}, ${exprText(x.value as Expr)})`;
    case 'this_cpu_inc': return `this_cpu_inc(${String(x.var)})`;
    case 'per_cpu_write': return `per_cpu(${String(x.var)}, ${String(x.cpu)}) = ${exprText(x.value as Expr)}`;
    case 'enqueue': return `__skb_queue_tail(&${String(x.queue)}, ${exprText(x.value as Expr)})`;
    case 'dequeue': return `${String(x.reg)} = __skb_dequeue(&${String(x.queue)})`;
    case 'BUG_ON': case 'WARN_ON': return `${x.op}(${exprText(x.cond as Expr)})${typeof x.message === 'string' ? ` /* ${x.message} */` : ''}`;
    case 'call': return `${String(x.fn)}()`;
    case 'rcu_dereference': case 'rcu_dereference_bh': case 'rcu_dereference_protected':
      return `${String(x.reg)} = ${x.op}(${String(x.var)})`;
    case 'rcu_assign_pointer': return `rcu_assign_pointer(${String(x.var)}, ${exprText(x.value as Expr)})`;
    default: {
      const args: string[] = [];
      if (typeof x.target === 'string') args.push(x.target);
      if (typeof x.obj === 'string') args.push(`&${x.obj}`);
      if (typeof x.cpu === 'number') args.unshift(String(x.cpu));
      if (typeof x.count === 'number') args.push(String(x.count));
      // Atomics and refcounts name their variable (the ops above keep their own texts).
      if (typeof x.var === 'string') args.push(`&${x.var}`);
      if (typeof x.var === 'string' && x.value !== undefined) args.push(exprText(x.value as Expr));
      if (x.old !== undefined) args.push(exprText(x.old as Expr));
      if (x.new !== undefined) args.push(exprText(x.new as Expr));
      if (typeof x.gfp === 'string') args.push(x.gfp);
      if (typeof x.fn === 'string') args.push(x.fn);
      if (x.op === 'wait_event' && x.cond !== undefined) args.push(exprText(x.cond as Expr));
      if (lock) args.push(lock);
      if (typeof x.vec === 'string') args.push(`${x.vec}_SOFTIRQ`);
      if (typeof x.flags === 'string' && x.op !== 'local_irq_save' && x.op !== 'local_irq_restore') args.push(x.flags);
      if (x.op === 'local_irq_save' || x.op === 'local_irq_restore') args.push(String(x.flags));
      if (typeof x.subclass === 'number') args.push(String(x.subclass));
      // A result the design names reads as the C assignment (hidden results, `#…`, are the branch's).
      const named = typeof x.reg === 'string' && !x.reg.startsWith('#') ? `${x.reg} = ` : '';
      return `${named}${String(x.op)}(${args.join(', ')})`;
    }
  }
}

/** The fields of the control statements (kernel operations take theirs from their operands). */
const STATEMENT_KEYS: Readonly<Record<string, readonly string[]>> = { if: IF_KEYS, while: WHILE_KEYS, repeat: REPEAT_KEYS, call: CALL_KEYS, either: EITHER_KEYS };

const GFP_FLAGS = ['GFP_KERNEL', 'GFP_ATOMIC', 'GFP_NOWAIT'] as const;
/** The most branches of one `either`. */
export const MAX_EITHER = 8;
const IRQ_FLAGS: readonly IrqFlag[] = ['ONESHOT', 'NO_AUTOEN', 'NO_THREAD'];

class Emitter {
  readonly code: number[] = [];
  readonly where: string[] = [];
  readonly text: string[] = [];
  readonly exprs: number[] = [];
  readonly loops: ProgramLoop[] = [];
  readonly regs = new Map<string, number>();
  /** Per instruction: bitmask of the structs whose members it touches. */
  readonly touch: number[] = [];
  /** The touch mask the next emitted instruction gets. */
  nextTouch = 0;
  /** Per instruction: the task whose own body it is, or −1 (Program.taskOwner). */
  readonly owner: number[] = [];
  /** The task whose body is being compiled, or −1. */
  ownerTask = -1;

  get pc(): number {
    return this.code.length;
  }
  emit(op: string, a: number, b: number, c: number, where: string, text: string): number {
    const opcode = opcodeOf(op);
    if (opcode === undefined) throw new Error(`kdefer internal error: no operation '${op}'`);
    const pc = this.pc;
    this.code.push(opcode, a, b, c);
    this.where.push(where);
    this.text.push(text);
    this.touch.push(this.nextTouch);
    this.nextTouch = 0;
    this.owner.push(this.ownerTask);
    return pc;
  }
  patch(pc: number, operand: 1 | 2 | 3, value: number): void {
    this.code[pc + operand] = value;
  }
  reg(name: string): number {
    let r = this.regs.get(name);
    if (r === undefined) {
      r = this.regs.size;
      this.regs.set(name, r);
    }
    return r;
  }
}

interface Tables {
  readonly locks: Map<string, { id: number; lock: ProgramLock }>;
  readonly vars: Map<string, number>;
  readonly percpu: Map<string, number>;
  readonly queues: Map<string, number>;
  /** Object names to ids, per object kind. */
  readonly objects: Map<string, Map<string, number>>;
  readonly ncpu: number;
}

/** How to compile. */
export interface CompileOptions {
  /**
   * Keep every register's value until it is overwritten, instead of zeroing
   * it where no later step reads it (model/dsl/liveness.ts): for tests that
   * read a register the design itself never reads again. It only splits
   * states that are otherwise equal: verdicts do not change.
   */
  readonly keepDeadRegisters?: boolean;
}

/** Compile a design; throws DesignError naming the first problem found. */
export function compile(design: Design, opts: CompileOptions = {}): Program {
  const name = typeof design?.name === 'string' && design.name !== '' ? design.name : '(unnamed)';
  const err = (where: string, problem: string) => new DesignError(name, where, problem);
  if (!isObject(design)) throw err('', 'a design must be an object');
  // Strict keys, before anything else: a misspelled key must never be silently ignored.
  const fail = (where: string) => (problem: string): never => { throw err(where, problem); };
  checkKeys(design, [...DESIGN_KEYS, ...OBJECT_KINDS.map((k) => k.field)], fail(''));
  if (name === '(unnamed)') throw err('', "the design needs a non-empty 'name'");
  if (design.expected !== undefined && design.expected !== 'verified' && !isViolationKind(design.expected as string)) {
    throw err('expected', unknownKeyProblem(String(design.expected), ['verified', ...VIOLATION_KINDS], 'verdict'));
  }
  if (design.options !== undefined) {
    if (!isObject(design.options)) throw err('options', 'must be an object: { preempt?, ticks?, memoryPressure? }');
    checkKeys(design.options, OPTION_KEYS, fail('options'));
  }
  if (design.profile !== undefined && !Object.hasOwn(PROFILES, design.profile)) {
    throw err('profile', unknownKeyProblem(String(design.profile), Object.keys(PROFILES), 'kernel profile'));
  }
  if (design.flags !== undefined) {
    if (!isObject(design.flags)) throw err('flags', 'must map kernel flag names to values');
    checkKeys(design.flags, FLAG_NAMES, fail('flags'), 'kernel flag');
  }
  if (!isInt(design.cpus) || design.cpus < 1 || design.cpus > MAX_CPUS) {
    throw err('cpus', `must be a whole number from 1 to ${MAX_CPUS}, got ${JSON.stringify(design.cpus)}`);
  }
  const ncpu = design.cpus;
  let flags;
  try {
    flags = resolveFlags(design.profile, design.flags);
  } catch (e) {
    throw err(design.profile !== undefined && !Object.hasOwn(PROFILES, design.profile) ? 'profile' : 'flags', (e as Error).message);
  }
  const memoryPressure = design.options?.memoryPressure ?? false;
  if (typeof memoryPressure !== 'boolean') throw err('options.memoryPressure', `must be true or false, got ${JSON.stringify(memoryPressure)}`);
  const preempt = design.options?.preempt ?? (flags.preemptRT ? 'full' : 'none');
  if (preempt !== 'none' && preempt !== 'full') throw err('options.preempt', `must be 'none' or 'full', got ${JSON.stringify(preempt)}`);
  if (flags.preemptRT && preempt !== 'full') throw err('options.preempt', "a PREEMPT_RT kernel is fully preemptible: preempt must be 'full' (or left out)");
  const ticks = design.options?.ticks ?? (isObject(design.timers) && Object.keys(design.timers).length > 0 ? DEFAULT_TICKS : 0);
  if (!isInt(ticks) || ticks < 0 || ticks > MAX_BUDGET) throw err('options.ticks', `must be a whole number from 0 to ${MAX_BUDGET}, got ${JSON.stringify(ticks)}`);

  // What mechanism objects embed (a socket's slock, refcount and backlog):
  // named like the design's own locks, variables and queues, declared after them.
  const embedded: { owner: string; field: string; what: Embedded }[] = [];
  for (const spec of OBJECT_KINDS) {
    if (!spec.embedded) continue;
    const declared = (design as unknown as Record<string, unknown>)[spec.field];
    if (!isObject(declared)) continue;
    for (const [oname, decl] of Object.entries(declared)) embedded.push({ owner: oname, field: `${spec.field}['${oname}']`, what: spec.embedded(oname, decl) });
  }
  /** Embedded name → the object that embeds it. */
  const embeddedIn = new Map<string, string>();
  const claim = (name: string, where: string, taken: (n: string) => boolean, owner: string): void => {
    if (taken(name) || embeddedIn.has(name)) throw err(where, `'${name}' is declared twice: the ${where.split('[')[0]} object '${owner}' embeds it`);
    embeddedIn.set(name, owner);
  };

  // Names
  const locks = new Map<string, { id: number; lock: ProgramLock }>();
  const classKinds = new Map<string, { kind: string; first: string }>();
  for (const [lname, decl] of Object.entries(design.locks ?? {})) {
    const where = `locks['${lname}']`;
    if (isObject(decl)) checkKeys(decl, LOCK_DECL_KEYS, fail(where));
    const kind = isObject(decl) ? decl.kind : decl;
    if (!isLockKind(kind)) throw err(where, `kind must be one of ${LOCK_KIND_NAMES.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(kind)}`);
    const cls = isObject(decl) && decl.class !== undefined ? decl.class : lname;
    if (typeof cls !== 'string' || cls === '') throw err(where, `class must be a non-empty lockdep class name, got ${JSON.stringify(cls)}`);
    const seen = classKinds.get(cls);
    if (seen && seen.kind !== kind) throw err(where, `lockdep class '${cls}' has locks of two kinds: '${seen.first}' is a ${LOCK_KINDS[seen.kind as LockKind].ctype}, '${lname}' a ${LOCK_KINDS[kind].ctype}`);
    if (!seen) classKinds.set(cls, { kind, first: lname });
    locks.set(lname, { id: locks.size, lock: { name: lname, kind, class: cls } });
  }
  for (const e of embedded) {
    for (const [lname, kind] of Object.entries(e.what.locks ?? {})) {
      claim(lname, e.field, (n) => locks.has(n), e.owner);
      locks.set(lname, { id: locks.size, lock: { name: lname, kind, class: lname } });
    }
  }
  if (locks.size > MAX_LOCKS) throw err('locks', `at most ${MAX_LOCKS} locks, got ${locks.size}`);
  const namedInts = (field: 'vars' | 'percpu') => {
    const map = new Map<string, number>();
    const init: number[] = [];
    const more = field === 'vars' ? embedded.flatMap((e) => Object.entries(e.what.vars ?? {}).map(([n, x]) => ({ n, x, e }))) : [];
    for (const [vname, value] of Object.entries(design[field] ?? {})) {
      if (!isInt(value)) throw err(`${field}['${vname}']`, `initial value must be an integer, got ${JSON.stringify(value)}`);
      map.set(vname, map.size);
      init.push(value);
    }
    for (const { n, x, e } of more) {
      claim(n, e.field, (k) => map.has(k), e.owner);
      map.set(n, map.size);
      init.push(x);
    }
    return { map, init };
  };
  const vars = namedInts('vars');
  const percpu = namedInts('percpu');
  const queues = new Map<string, number>();
  const queueList: ProgramQueue[] = [];
  const queueSpecs: [string, unknown][] = Object.entries(design.queues ?? {});
  for (const e of embedded) {
    for (const [qname, spec] of Object.entries(e.what.queues ?? {})) {
      claim(qname, e.field, (n) => Object.hasOwn(design.queues ?? {}, n), e.owner);
      queueSpecs.push([qname, spec]);
    }
  }
  for (const [qname, spec] of queueSpecs as [string, { capacity?: unknown; initial?: unknown }][]) {
    const where = `queues['${qname}']`;
    if (isObject(spec)) checkKeys(spec, QUEUE_KEYS, fail(where));
    if (!isObject(spec) || !isInt(spec.capacity) || spec.capacity < 1 || spec.capacity > MAX_QUEUE_CAPACITY) {
      throw err(where, `capacity must be a whole number from 1 to ${MAX_QUEUE_CAPACITY}`);
    }
    const initial = spec.initial ?? [];
    if (!Array.isArray(initial) || !initial.every(isInt) || initial.length > spec.capacity) {
      throw err(where, 'initial must be a list of integers no longer than the capacity');
    }
    queues.set(qname, queueList.length);
    queueList.push({ name: qname, capacity: spec.capacity, initial: [...initial] });
  }
  // Mechanism objects: names first (callbacks may refer to any object), declarations later.
  const objectNames = new Map<string, Map<string, number>>();
  const objectDecls: { spec: (typeof OBJECT_KINDS)[number]; name: string; decl: unknown }[] = [];
  for (const spec of OBJECT_KINDS) {
    const names = new Map<string, number>();
    const declared = (design as unknown as Record<string, unknown>)[spec.field] ?? {};
    if (!isObject(declared)) throw err(spec.field, `must map ${spec.kind} names to their declarations`);
    for (const [oname, decl] of [...Object.entries(spec.builtin ?? {}), ...Object.entries(declared)]) {
      if (names.has(oname)) throw err(`${spec.field}['${oname}']`, `${spec.kind} '${oname}' is declared twice (or shadows a kernel one)`);
      names.set(oname, names.size);
      objectDecls.push({ spec, name: oname, decl });
    }
    for (const e of embedded) {
      for (const [oname, decl] of Object.entries(e.what.objects?.[spec.kind] ?? {})) {
        claim(oname, e.field, (n) => names.has(n), e.owner);
        names.set(oname, names.size);
        objectDecls.push({ spec, name: oname, decl });
      }
    }
    objectNames.set(spec.kind, names);
  }
  const tables: Tables = { locks, vars: vars.map, percpu: percpu.map, queues, objects: objectNames, ncpu };

  // Lifetime: which struct (kmalloc'ed object) each variable, lock, queue or
  // mechanism object lives in, so that touching it after kfree is caught.
  const ownerOf = new Map<string, number>(); // member name -> struct id
  const structNames = [...(objectNames.get('struct')?.keys() ?? [])];
  const structMembers: string[][] = structNames.map(() => []);
  structNames.forEach((sname, sid) => {
    const decl = (design.structs ?? {})[sname];
    const members = decl?.members;
    const where = `structs['${sname}']`;
    if (isObject(decl)) checkKeys(decl, STRUCT_KEYS, fail(where));
    if (!Array.isArray(members)) throw err(where, "declare a struct as { members: [...] } naming the variables, locks, queues, timers, tasklets or works inside it");
    for (const member of members) {
      const known = tables.vars.has(member) || tables.locks.has(member) || tables.queues.has(member)
        || [...objectNames.entries()].some(([kind, names]) => kind !== 'struct' && names.has(member));
      if (!known) throw err(where, `member '${String(member)}' is not a declared variable, lock, queue or object`);
      // An object's embedded locks, variables and queues live in the same struct.
      const inside = [member, ...[...embeddedIn.entries()].filter(([, owner]) => owner === member).map(([n]) => n)];
      for (const name of inside) {
        const other = ownerOf.get(name);
        if (other !== undefined) throw err(where, `'${name}' is already a member of struct '${structNames[other]}'`);
        ownerOf.set(name, sid);
        structMembers[sid]!.push(name);
      }
    }
  });
  if (structNames.length > 31) throw err('structs', 'at most 31 structs');
  /** The struct mask of the names a statement refers to (its operands and expressions). */
  const touchMask = (st: Record<string, unknown>): number => {
    let mask = 0;
    const visit = (x: unknown): void => {
      if (typeof x === 'string') {
        const sid = ownerOf.get(x);
        if (sid !== undefined) mask |= 1 << sid;
      } else if (Array.isArray(x)) {
        x.forEach(visit);
      } else if (isObject(x)) {
        for (const [k, v] of Object.entries(x)) if (k !== 'op' && k !== 'reg' && k !== 'flags' && k !== 'then' && k !== 'else' && k !== 'body') visit(v);
      }
    };
    if (ownerOf.size > 0) visit(st);
    return mask;
  };
  const functions = design.functions ?? {};
  if (!isObject(functions)) throw err('functions', 'must map function names to statement lists');
  const softirqs = design.softirqs ?? {};
  for (const vec of Object.keys(softirqs)) {
    if (!(SOFTIRQS as readonly string[]).includes(vec)) throw err(`softirqs.${vec}`, `unknown softirq vector (known: ${SOFTIRQS.join(', ')})`);
  }

  /** Task name → task index, for kthread_run and kthread_stop (resolved before any body compiles). */
  const taskIds = new Map<string, number>(
    Array.isArray(design.tasks) ? design.tasks.flatMap((t, i) => (isObject(t) && typeof t.name === 'string' ? [[t.name, i] as const] : [])) : [],
  );

  const em = new Emitter();
  // Built-in kernel code first: the softirq batch loop (__do_softirq), then each mechanism's.
  if (em.emit('softirq_loop', 0, 0, 0, 'kernel/softirq.c: __do_softirq', '__do_softirq') !== SOFTIRQ_LOOP_PC) {
    throw new Error('kdefer internal error: softirq loop not at pc 0');
  }
  const builtins: Record<string, number> = {};
  const builtinCode: { name: string; from: number; to: number; code: (typeof BUILTINS)[number] }[] = [];
  for (const code of BUILTINS) {
    builtins[code.name] = em.pc;
    const from = em.pc;
    for (const op of code.ops) em.emit(op, 0, 0, 0, `kernel: ${code.name}`, code.name);
    builtinCode.push({ name: code.name, from, to: em.pc, code });
  }
  const designStart = em.pc;
  /** The `ret` ending each task body and irq handler: code no one calls. */
  const entryRets = new Set<number>();
  const irqSpecs = design.irqs ?? [];
  if (!Array.isArray(irqSpecs)) throw err('irqs', 'must be a list of interrupt lines');
  const irqNames = irqSpecs.map((line) => (isObject(line) && typeof line.name === 'string' ? line.name : ''));
  // Keys first: code naming a line (free_irq, disable_irq) must not report a misspelled line's name as unknown.
  irqSpecs.forEach((line, i) => {
    if (isObject(line)) checkKeys(line, IRQ_KEYS, fail(typeof line.name === 'string' && line.name !== '' ? `irq ${line.name}` : `irqs[${i}]`));
  });
  // The design's objects, once declared (below): threads() may read their attributes, live() may not.
  const declared: { objects?: Readonly<Record<string, readonly ProgramObject[]>> } = {};
  const shape: ProgramShape = {
    ncpu, flags, objectCount: (kind) => objectNames.get(kind)?.size ?? 0, objectNames: (kind) => [...(objectNames.get(kind)?.keys() ?? [])],
    irqs: irqSpecs.map((line) => ({
      name: isObject(line) && typeof line.name === 'string' ? line.name : '',
      cpuMask: isObject(line) && Array.isArray(line.cpus) ? line.cpus.reduce((mask, c) => mask | (isInt(c) ? 1 << c : 0), 0) : (1 << ncpu) - 1,
      threaded: isObject(line) && line.thread !== undefined,
    })),
    // Read lazily: threads() is asked once the design's code and objects exist.
    operandsOf: (op) => {
      const opcode = opcodeOf(op);
      const out: [number, number, number][] = [];
      for (let pc = 0; pc < em.code.length; pc += INSN_WIDTH) if (em.code[pc] === opcode) out.push([em.code[pc + 1]!, em.code[pc + 2]!, em.code[pc + 3]!]);
      return out;
    },
    objectAttr: (kind, id, attr) => declared.objects?.[kind]?.[id]?.attrs[attr],
    memoryPressure: design.options?.memoryPressure === true,
  };
  const builtinRegions = builtinCode.map(({ name: bname, from, to, code }) => ({ name: bname, from, to, live: code.live ? code.live(shape) : true }));
  // Softirq actions: the design's own handlers, plus those of the mechanisms it uses.
  const kernelActions = new Map<number, string>();
  for (const mech of MECHANISMS) {
    for (const { vec, builtin } of mech.softirqActions?.(shape) ?? []) {
      if ((softirqs as Record<string, unknown>)[SOFTIRQS[vec]!]) {
        throw err(`softirqs.${SOFTIRQS[vec]}`, `the ${SOFTIRQS[vec]} softirq runs the kernel's ${builtin} here (the design uses ${mech.name}); it cannot have a design handler too`);
      }
      kernelActions.set(vec, builtin);
    }
  }

  const compileExpr = (e: Expr, where: string, defined: ReadonlySet<string>): number => {
    const tokens: number[] = [];
    const walk = (x: Expr): void => {
      if (typeof x === 'number') {
        if (!isInt(x)) throw err(where, `expression constant must be an integer, got ${x}`);
        tokens.push(E_CONST, x);
        return;
      }
      if (!isObject(x)) throw err(where, `not an expression: ${JSON.stringify(x)}`);
      const form = Object.keys(EXPR_FORMS).find((k) => k in x);
      if (form === undefined) throw err(where, `not an expression: ${JSON.stringify(x)} (${unknownKeyProblem(Object.keys(x)[0] ?? '', Object.keys(EXPR_FORMS), 'expression form')})`);
      checkKeys(x, EXPR_FORMS[form]!, fail(where), `key in a '${form}' expression`);
      if ('var' in x) {
        const id = tables.vars.get(x.var);
        if (id === undefined) throw err(where, `unknown variable '${x.var}' (declared: ${[...tables.vars.keys()].join(', ') || 'none'})`);
        tokens.push(E_VAR, id);
      } else if ('reg' in x) {
        if (!defined.has(x.reg)) throw err(where, `register '${x.reg}' is used before it is set`);
        tokens.push(E_REG, em.reg(x.reg));
      } else if ('this_cpu' in x) {
        const id = tables.percpu.get(x.this_cpu);
        if (id === undefined) throw err(where, `unknown per-CPU variable '${x.this_cpu}'`);
        tokens.push(E_THIS_CPU, id);
      } else if ('per_cpu' in x) {
        const id = tables.percpu.get(x.per_cpu);
        if (id === undefined) throw err(where, `unknown per-CPU variable '${x.per_cpu}'`);
        if (!isInt(x.cpu) || x.cpu < 0 || x.cpu >= ncpu) throw err(where, `per_cpu(${x.per_cpu}, ${x.cpu}): no such CPU`);
        tokens.push(E_PER_CPU, id * 16 + x.cpu);
      } else if ('per_cpu_sum' in x) {
        // for_each_possible_cpu(cpu) sum += per_cpu(x, cpu): one term per CPU of this design.
        const id = tables.percpu.get(x.per_cpu_sum);
        if (id === undefined) throw err(where, `unknown per-CPU variable '${x.per_cpu_sum}'`);
        for (let c = 0; c < ncpu; c++) {
          tokens.push(E_PER_CPU, id * 16 + c);
          if (c > 0) tokens.push(E_BIN, (BINARY_FNS as readonly string[]).indexOf('+'));
        }
      } else if ('queue_len' in x || 'queue_head' in x) {
        const qn = 'queue_len' in x ? x.queue_len : x.queue_head;
        const id = tables.queues.get(qn);
        if (id === undefined) throw err(where, `unknown queue '${qn}'`);
        tokens.push('queue_len' in x ? E_QLEN : E_QHEAD, id);
      } else if ('smp_processor_id' in x) {
        tokens.push(E_CPU, 0);
      } else if ('ctx' in x) {
        const i = (CONTEXT_PREDICATES as readonly string[]).indexOf(x.ctx);
        if (i < 0) throw err(where, unknownKeyProblem(String(x.ctx), CONTEXT_PREDICATES, 'context predicate'));
        tokens.push(E_CTX, i);
      } else if ('seq_retry' in x) {
        const id = tables.objects.get('seqcount')?.get(x.seq_retry);
        if (id === undefined) throw err(where, `read_seqcount_retry: unknown seqcount ${JSON.stringify(x.seq_retry)} (declared: ${[...(tables.objects.get('seqcount')?.keys() ?? [])].join(', ') || 'none'})`);
        if (x.seq === undefined) throw err(where, 'read_seqcount_retry needs the sequence read_seqcount_begin returned, in \'seq\'');
        walk(x.seq);
        tokens.push(E_SEQ_RETRY, id);
      } else if ('fn' in x) {
        if (!Array.isArray(x.args)) throw err(where, `the '${String(x.fn)}' expression needs its operands in 'args'`);
        if (x.fn === '!') {
          if (x.args.length !== 1) throw err(where, "'!' takes one operand");
          walk(x.args[0]!);
          tokens.push(E_NOT, 0);
        } else {
          const fi = (BINARY_FNS as readonly string[]).indexOf(x.fn);
          if (fi < 0 || x.args.length !== 2) throw err(where, `bad expression function '${String(x.fn)}'`);
          walk(x.args[0]!);
          walk(x.args[1]!);
          tokens.push(E_BIN, fi);
        }
      } else {
        throw err(where, `not an expression: ${JSON.stringify(x)}`);
      }
    };
    walk(e);
    tokens.push(E_END, 0);
    const off = em.exprs.length;
    em.exprs.push(...tokens);
    return off;
  };

  const resolveOperand = (spec: OperandSpec, st: Record<string, unknown>, where: string, defined: Set<string>, opName: string): number => {
    const value = st[spec.field];
    switch (spec.kind) {
      case 'lock': {
        if (typeof value !== 'string') throw err(where, `${opName} needs a lock`);
        const entry = tables.locks.get(value);
        if (!entry) throw err(where, `${opName}(&${value}): unknown lock '${value}' (declared: ${[...tables.locks.keys()].join(', ') || 'none'})`);
        if (entry.lock.kind !== spec.lockKind) throw err(where, `${opName} needs a ${LOCK_KINDS[spec.lockKind].ctype}, but '${value}' is a ${LOCK_KINDS[entry.lock.kind].ctype}`);
        return entry.id;
      }
      case 'reg-def':
        if (value === undefined && spec.optional) return -1;
        if (typeof value !== 'string' || value === '') throw err(where, `${opName} needs a register name in '${spec.field}'`);
        defined.add(value);
        return em.reg(value);
      case 'fn':
        // Compiled after the code being emitted now (see fnPatches); the operand is patched then.
        if (typeof value !== 'string' || !Object.hasOwn(functions, value)) {
          throw err(where, `${opName}: unknown function ${JSON.stringify(value)} (defined: ${Object.keys(functions).join(', ') || 'none'})`);
        }
        return 0;
      case 'task': {
        const id = typeof value === 'string' ? taskIds.get(value) : undefined;
        if (id === undefined) throw err(where, `${opName}: unknown task ${JSON.stringify(value)} (tasks: ${[...taskIds.keys()].join(', ') || 'none'})`);
        if (spec.kthread && design.tasks[id]?.start !== 'kthread_run') {
          throw err(where, `${opName}(${String(value)}): task '${String(value)}' is not a kernel thread: declare it with start: 'kthread_run'`);
        }
        return id;
      }
      case 'gfp': {
        const g = (GFP_FLAGS as readonly unknown[]).indexOf(value);
        if (g < 0) throw err(where, `${opName}: gfp must be one of ${GFP_FLAGS.join(', ')}, got ${JSON.stringify(value)}`);
        return g;
      }
      case 'flag':
        if (value !== undefined && typeof value !== 'boolean') throw err(where, `${opName}: '${spec.field}' must be true or false`);
        return value ? 1 : 0;
      case 'irq': {
        const id = typeof value === 'string' ? irqNames.indexOf(value) : -1;
        if (id < 0) throw err(where, `${opName}: unknown interrupt line ${JSON.stringify(value)} (lines: ${irqNames.join(', ') || 'none'})`);
        return id;
      }
      case 'reg-use':
        if (typeof value !== 'string' || value === '') throw err(where, `${opName} needs a register name in '${spec.field}'`);
        if (!defined.has(value)) throw err(where, `${opName}: register '${value}' is used before it is set in this context`);
        return em.reg(value);
      case 'vec': {
        const v = (SOFTIRQS as readonly string[]).indexOf(value as string);
        if (v < 0) throw err(where, `${opName}: unknown softirq vector ${JSON.stringify(value)} (known: ${SOFTIRQS.join(', ')})`);
        if (!(softirqs as Record<string, unknown>)[value as string] && !kernelActions.has(v)) throw err(where, `${opName}(${String(value)}): the design has no ${String(value)} softirq handler`);
        return v;
      }
      case 'var': case 'percpu': case 'queue': {
        const table = spec.kind === 'var' ? tables.vars : spec.kind === 'percpu' ? tables.percpu : tables.queues;
        const id = typeof value === 'string' ? table.get(value) : undefined;
        const what = spec.kind === 'var' ? 'variable' : spec.kind === 'percpu' ? 'per-CPU variable' : 'queue';
        if (id === undefined) throw err(where, `${opName}: unknown ${what} ${JSON.stringify(value)} (declared: ${[...table.keys()].join(', ') || 'none'})`);
        return id;
      }
      case 'expr':
        if (value === undefined) throw err(where, `${opName} needs an expression in '${spec.field}'`);
        return compileExpr(value as Expr, where, defined);
      case 'object': {
        const names = tables.objects.get(spec.objectKind)!;
        const id = typeof value === 'string' ? names.get(value) : undefined;
        if (id === undefined) throw err(where, `${opName}: unknown ${spec.objectKind} ${JSON.stringify(value)} (declared: ${[...names.keys()].join(', ') || 'none'})`);
        const requires = spec.requires;
        if (requires) {
          // Callbacks compile while objects are still being declared: check once all are.
          attributeChecks.push(() => {
            if (!objects[spec.objectKind]?.[id]?.attrs[requires.attr]) throw err(where, `${opName}(&${String(value)}): &${String(value)} ${requires.problem}`);
          });
        }
        return id;
      }
      case 'int':
        if (spec.field === 'cpu' && (!isInt(value) || value < 0 || value >= ncpu)) throw err(where, `${opName}: cpu ${JSON.stringify(value)} is not one of the design's ${ncpu} CPUs`);
        if (!isInt(value) || value < spec.min || value > spec.max) throw err(where, `${opName}: '${spec.field}' must be a whole number from ${spec.min} to ${spec.max}, got ${JSON.stringify(value)}`);
        return value;
    }
  };

  /**
   * Compile statements; `defined` holds the registers definitely set so far.
   * `internal`: statements an expansion produced: they may use internal
   * operations, and keep the position of the statement they expand.
   */
  const compileBody = (stmts: readonly Stmt[], path: string, defined: Set<string>, calls: readonly string[], internal = false): void => {
    if (!Array.isArray(stmts)) throw err(path, 'must be a list of statements');
    stmts.forEach((st, i) => {
      const where = internal ? path : `${path}[${i}]`;
      if (!isObject(st) || typeof st.op !== 'string') throw err(where, `not a statement: ${JSON.stringify(st)}`);
      const fields = STATEMENT_KEYS[st.op];
      if (fields && !internal) checkKeys(st, fields, fail(where), `field of ${st.op === 'call' ? 'call' : `${st.op} statement`}`);
      switch (st.op) {
        case 'if': return compileIf(st as unknown as IfStmt, where, defined, calls, internal);
        case 'while': return compileWhile(st as unknown as WhileStmt, where, defined, calls);
        case 'either': return compileEither(st as unknown as EitherStmt, where, defined, calls);
        case 'repeat': {
          const rep = st as unknown as RepeatStmt;
          if (!isInt(rep.count) || rep.count < 0 || rep.count > MAX_REPEAT) throw err(where, `repeat count must be a whole number from 0 to ${MAX_REPEAT}`);
          for (let k = 0; k < rep.count; k++) compileBody(rep.body, `${where}.body`, defined, calls);
          return;
        }
        case 'call': {
          const fn = (st as { fn?: unknown }).fn;
          if (typeof fn !== 'string' || !Object.hasOwn(functions, fn)) {
            throw err(where, `call of unknown function ${JSON.stringify(fn)} (defined: ${Object.keys(functions).join(', ') || 'none'})`);
          }
          if (calls.includes(fn)) throw err(where, `recursive call ${[...calls, fn].join(' → ')}: functions are inlined and may not recurse`);
          compileBody(functions[fn]!, `${where} → ${fn}()`, defined, [...calls, fn]);
          return;
        }
        default:
          if (expandOp(st as Record<string, unknown>, where, defined, calls, internal)) return;
          return compileOp(st as Record<string, unknown>, where, defined, internal);
      }
    });
  };
  const compileBodyAt = compileBody;

  /** Expand a kernel function written as a composition of others (see Expansion); false if `st` is not one. */
  const expandOp = (st: Record<string, unknown>, where: string, defined: Set<string>, calls: readonly string[], internal: boolean): boolean => {
    const expansion = EXPANSIONS.get(st.op as string);
    if (!expansion) return false;
    if (!internal) checkKeys(st, ['op', ...expansion.fields], fail(where), `field of ${String(st.op)}()`);
    const missing = expansion.unavailable?.(flags);
    if (missing) throw err(where, `${String(st.op)}(): ${missing}`);
    const rtWhy = flags.preemptRT ? EXPANSION_MECHANISM.get(expansion.name)?.rtUnmodelled : undefined;
    if (rtWhy) throw err(where, `${String(st.op)}(): not modelled on PREEMPT_RT: ${rtWhy}; check it under a !RT profile`);
    const x: ExpandContext = {
      fail: (problem) => { throw err(where, `${String(st.op)}(): ${problem}`); },
      declaration: (kind, oname) => {
        const spec = OBJECT_KINDS.find((k) => k.kind === kind);
        return spec ? ((design as unknown as Record<string, Record<string, unknown> | undefined>)[spec.field] ?? {})[oname] : undefined;
      },
      // Named within the region, as every hidden register (symmetry: equal code, equal registers).
      hiddenReg: (tag) => `#${tag}${(em.pc - region.start) / INSN_WIDTH}`,
    };
    const { body, text } = expansion.expand(st, x);
    const first = em.pc;
    compileBodyAt(body, where, defined, calls, true);
    if (text !== undefined && em.pc > first) em.text[first / INSN_WIDTH] = text;
    return true;
  };

  const compileOp = (st: Record<string, unknown>, where: string, defined: Set<string>, internal = false): void => {
    const opName = st.op as string;
    const opcode = opcodeOf(opName);
    const sem = opcode === undefined ? undefined : OPS[opcode];
    if (!sem || (sem.internal && !internal)) {
      const near = nearest(opName, [...OPS.filter((o) => !o.internal).map((o) => o.name), ...EXPANSIONS.keys()]);
      throw err(where, `unknown operation '${opName}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    checkKeys(st, ['op', ...(sem.operands ?? []).map((o) => o.field), ...(sem.extraFields ?? [])], fail(where), `field of ${opName}()`);
    const missing = sem.unavailable?.(flags);
    if (missing) throw err(where, `${opName}(): ${missing}`);
    const rtWhy = flags.preemptRT && !internal ? OP_MECHANISM[opcode!]!.rtUnmodelled : undefined;
    if (rtWhy) throw err(where, `${opName}(): not modelled on PREEMPT_RT: ${rtWhy}; check it under a !RT profile`);
    const operands = [0, 0, 0];
    let slot = 0;
    const patches: { slot: number; fn: string; inputs: readonly string[] }[] = [];
    for (const spec of sem.operands ?? []) {
      if (spec.kind === 'fn') patches.push({ slot, fn: st[spec.field] as string, inputs: spec.inputs ?? [] });
      const value = resolveOperand(spec, st, where, defined, opName);
      // A packed int (or register + 1) shares the previous operand's slot (see OperandSpec).
      if ((spec.kind === 'int' || spec.kind === 'flag') && spec.packed) operands[slot - 1] = operands[slot - 1]! | (value << 16);
      else if (spec.kind === 'reg-def' && spec.packed) operands[slot - 1] = operands[slot - 1]! | ((value + 1) << 16);
      else operands[slot++] = value;
    }
    // The lockdep subclass of a held lock is kept in a per-context nibble (model/kernel/held-locks.ts).
    if (sem.lockdep?.subclassOperand && operands[sem.lockdep.subclassOperand]! !== 0 && operands[0]! >= NIBBLE_LOCKS) {
      throw err(where, `kdefer limit: ${opName}(&${String(st.lock)}): lockdep subclasses are kept for the first ${NIBBLE_LOCKS} locks declared; declare '${String(st.lock)}' earlier`);
    }
    // Allocating or freeing a struct is not a touch of its members.
    em.nextTouch = opName === 'kfree' || opName === 'kmalloc' || opName === 'kzalloc' ? 0 : touchMask(st);
    // PREEMPT_RT: spinlock_t/rwlock_t ops are their sleeping rt_mutex forms (model/kernel/spinlock.ts).
    const rtName = `${RT_OP_PREFIX}${opName}`;
    const emitted = flags.preemptRT && opcodeOf(rtName) !== undefined ? rtName : opName;
    const pc = em.emit(emitted, operands[0]!, operands[1]!, operands[2]!, where, stmtText(st as Stmt));
    for (const patch of patches) fnPatches.push({ pc, ...patch, where });
  };

  const compileIf = (st: IfStmt, where: string, defined: Set<string>, calls: readonly string[], internal = false): void => {
    let condOff: number;
    let condText: string;
    // `if (!call(…))`: a negated call, the kernel's `if (!test_and_set_bit(…))`.
    const negated = st.cond as unknown as { fn?: unknown; args?: unknown };
    const negatedCall = isObject(negated) && negated.fn === '!' && Array.isArray(negated.args) && isObject(negated.args[0])
      && typeof (negated.args[0] as { op?: unknown }).op === 'string';
    const cond = negatedCall ? (st.cond as unknown as { args: Stmt[] }).args[0]! : st.cond;
    const isCall = isObject(cond) && ('trylock' in cond || typeof (cond as { op?: unknown }).op === 'string');
    if (isObject(cond) && 'trylock' in cond) {
      checkKeys(cond, TRYLOCK_KEYS, fail(`${where}.cond`));
      const t = cond as unknown as Trylock;
      // Hidden registers are named within their region, so equal code compiles to equal registers (symmetry).
      const result = `#try${(em.pc - region.start) / INSN_WIDTH}`;
      const call = Object.fromEntries(Object.entries({ op: t.trylock, lock: t.lock, obj: t.obj, reg: result, flags: t.flags }).filter(([, x]) => x !== undefined));
      compileOp(call, `${where}.cond`, defined);
      const callText = `${t.trylock}(&${t.lock ?? t.obj}${t.flags ? `, ${t.flags}` : ''})`;
      em.text[em.text.length - 1] = callText;
      condOff = compileExpr({ reg: result }, `${where}.cond`, defined);
      condText = `if (${callText})`;
    } else if (isCall) {
      // A call used as a condition: its result register decides (a hidden one unless the call names it).
      const call = cond as Record<string, unknown>;
      const named = typeof call.reg === 'string';
      const result = named ? (call.reg as string) : `#cond${(em.pc - region.start) / INSN_WIDTH}`;
      const opcode = opcodeOf(call.op as string);
      const resultSpec = opcode === undefined ? undefined : OPS[opcode]!.operands?.find((o) => o.kind === 'reg-def' && o.field === 'reg');
      if (opcode !== undefined && !resultSpec) throw err(`${where}.cond`, `${String(call.op)}() returns nothing to branch on`);
      const first = em.pc;
      const withResult = { ...call, reg: result };
      if (!expandOp(withResult, `${where}.cond`, defined, calls, internal)) compileOp(withResult, `${where}.cond`, defined, internal);
      const callText = em.pc > first ? em.text[first / INSN_WIDTH]! : stmtText(call as Stmt);
      condOff = compileExpr(negatedCall ? { fn: '!', args: [{ reg: result }] } : { reg: result }, `${where}.cond`, defined);
      condText = `if (${negatedCall ? '!' : ''}${callText})`;
    } else {
      condOff = compileExpr(cond as Expr, `${where}.cond`, defined);
      // An expansion's own branch reads as what it tests, not as its hidden register.
      const own = (st as { text?: unknown }).text;
      condText = internal && typeof own === 'string' ? `if (${own})` : `if (${exprText(cond as Expr)})`;
    }
    em.nextTouch = isCall ? 0 : touchMask({ cond });
    const br = em.emit('brz', condOff, 0, 0, where, condText);
    const thenDefined = new Set(defined);
    compileBody(st.then ?? [], `${where}.then`, thenDefined, calls, internal);
    const elseBody = st.else ?? [];
    if (elseBody.length > 0) {
      const jmp = em.emit('jmp', 0, 0, 0, `${where}.then`, 'goto end of if');
      em.patch(br, 2, em.pc);
      const elseDefined = new Set(defined);
      compileBody(elseBody, `${where}.else`, elseDefined, calls, internal);
      em.patch(jmp, 1, em.pc);
      for (const r of thenDefined) if (elseDefined.has(r)) defined.add(r);
    } else {
      em.patch(br, 2, em.pc);
    }
  };

  /**
   * either(b0, b1, …): one `either` instruction whose variant picks the
   * branch, followed by a table of one jump per branch; each branch ends by
   * jumping past the last.
   */
  const compileEither = (st: EitherStmt, where: string, defined: Set<string>, calls: readonly string[]): void => {
    const branches = st.branches;
    if (!Array.isArray(branches) || branches.length < 2 || branches.length > MAX_EITHER || !branches.every(Array.isArray)) {
      throw err(where, `either needs 2 to ${MAX_EITHER} branches, each a list of statements: either([...], [...])`);
    }
    em.emit('either', branches.length, 0, 0, where, `either: ${branches.length} ways`);
    const table = branches.map((_, k) => em.emit('jmp', 0, 0, 0, `${where}.branches[${k}]`, `branch ${k + 1}`));
    const ends: number[] = [];
    const sets: Set<string>[] = [];
    branches.forEach((body, k) => {
      em.patch(table[k]!, 1, em.pc);
      const mine = new Set(defined);
      compileBody(body, `${where}.branches[${k}]`, mine, calls);
      sets.push(mine);
      if (k < branches.length - 1) ends.push(em.emit('jmp', 0, 0, 0, `${where}.branches[${k}]`, 'goto end of either'));
    });
    for (const j of ends) em.patch(j, 1, em.pc);
    for (const r of sets[0]!) if (sets.every((set) => set.has(r))) defined.add(r);
  };

  const compileWhile = (st: WhileStmt, where: string, defined: Set<string>, calls: readonly string[]): void => {
    // bound 'none': no counter, the loop's iterations are told apart by the state alone (design.ts WhileStmt).
    let loop = UNBOUNDED_LOOP;
    if (st.bound !== 'none') {
      if (!isInt(st.bound) || st.bound < 1 || st.bound > MAX_LOOP_BOUND) {
        throw err(where, `a while loop needs a bound: a whole number of iterations from 1 to ${MAX_LOOP_BOUND}, or 'none' for a loop the kernel's progress ends (while_(cond, body, { bound }))`);
      }
      loop = em.loops.length;
      const counter = em.reg(`#loop${region.loops++}`);
      em.loops.push({ where, bound: st.bound, reg: counter });
      const zero = compileExpr(0, where, defined);
      em.emit('load', counter, zero, 0, where, `loop counter = 0`);
    }
    const condOff = compileExpr(st.cond, `${where}.cond`, defined);
    em.nextTouch = touchMask({ cond: st.cond });
    const top = em.emit('while', condOff, 0, loop, where, `while (${exprText(st.cond)})`);
    compileBody(st.body ?? [], `${where}.body`, new Set(defined), calls);
    em.emit('jmp', top, 0, 0, `${where}.body`, 'loop back');
    em.patch(top, 2, em.pc);
  };

  /** The region (task body, handler, callback function) being compiled: where it starts, loops so far. */
  let region = { start: 0, loops: 0 };
  /** Compile an entry's code: a region of its own, owned by `task` (its body) or by none (−1). */
  const inRegion = <T>(fn: () => T, task = -1): T => {
    const outer = region;
    const outerTask = em.ownerTask;
    region = { start: em.pc, loops: 0 };
    em.ownerTask = task;
    try {
      return fn();
    } finally {
      region = outer;
      em.ownerTask = outerTask;
    }
  };
  const compileEntry = (body: readonly Stmt[], path: string, task = -1): number => inRegion(() => {
    const entry = em.pc;
    compileBody(body, path, new Set(), []);
    em.emit('ret', 0, 0, 0, `${path}: end`, 'return');
    return entry;
  }, task);

  const attributeChecks: (() => void)[] = [];
  /** Registers mechanisms read or write by name around the design code they call (see liveness.ts). */
  const mechanismRegs = new Set<number>();
  // Design functions used as callbacks (tasklet, timer and work functions) get their own entry,
  // one per set of registers the mechanism passes in.
  const callbackEntries = new Map<string, number>();
  const functionEntry = (fn: string, where: string, inputs: readonly string[] = []): number => {
    const key = `${fn}(${inputs.join(',')})`;
    const known = callbackEntries.get(key);
    if (known !== undefined) return known;
    if (!Object.hasOwn(functions, fn)) throw err(where, `unknown function ${JSON.stringify(fn)} (defined: ${Object.keys(functions).join(', ') || 'none'})`);
    const entry = inRegion(() => {
      const at = em.pc;
      for (const r of inputs) em.reg(r);
      compileBody(functions[fn]!, `function ${fn}`, new Set(inputs), [fn]);
      em.emit('ret', 0, 0, 0, `function ${fn}: end`, 'return');
      return at;
    });
    callbackEntries.set(key, entry);
    return entry;
  };
  /** 'fn' operands emitted so far, patched with their callback's entry once the code around them is done. */
  const fnPatches: { pc: number; slot: number; fn: string; inputs: readonly string[]; where: string }[] = [];
  const flushFnPatches = (): void => {
    while (fnPatches.length > 0) {
      const patch = fnPatches.shift()!;
      em.patch(patch.pc, (patch.slot + 1) as 1 | 2 | 3, functionEntry(patch.fn, patch.where, patch.inputs));
    }
  };
  const objects: Record<string, ProgramObject[]> = {};
  for (const spec of OBJECT_KINDS) objects[spec.kind] = [];
  for (const { spec, name: oname, decl } of objectDecls) {
    const where = `${spec.field}['${oname}']`;
    const ctx: DeclareContext = {
      ncpu,
      flags,
      fail: (problem) => { throw err(where, problem); },
      functionEntry: (fn) => functionEntry(fn, where),
      callbackEntry: (fn, inputs) => functionEntry(fn, where, inputs),
      reg: (r) => {
        const id = em.reg(r);
        mechanismRegs.add(id);
        return id;
      },
      lockId: (n) => {
        const id = tables.locks.get(n)?.id;
        if (id === undefined) throw err(where, `unknown lock ${JSON.stringify(n)}`);
        return id;
      },
      varId: (n) => {
        const id = tables.vars.get(n);
        if (id === undefined) throw err(where, `unknown variable ${JSON.stringify(n)}`);
        return id;
      },
      queueId: (n) => {
        const id = tables.queues.get(n);
        if (id === undefined) throw err(where, `unknown queue ${JSON.stringify(n)}`);
        return id;
      },
      objectId: (kind, n) => {
        const id = tables.objects.get(kind)?.get(n);
        if (id === undefined) throw err(where, `unknown ${kind} ${JSON.stringify(n)}`);
        return id;
      },
    };
    if (spec.declKeys && isObject(decl)) checkKeys(decl, spec.declKeys, ctx.fail);
    const { init, attrs } = spec.declare(oname, decl, ctx);
    if (init.length !== spec.size) throw new Error(`kdefer internal error: ${spec.kind} declares ${init.length} words, not ${spec.size}`);
    objects[spec.kind]!.push({ kind: spec.kind, name: oname, init, attrs: attrs ?? {} });
  }

  if (!Array.isArray(design.tasks)) throw err('tasks', 'must be a list of tasks');
  // Keys first: a body naming another task (kthread_run, kthread_stop, after) must not report a misspelled task's name as unknown.
  design.tasks.forEach((t, i) => {
    if (isObject(t)) checkKeys(t, TASK_KEYS, fail(typeof t.name === 'string' && t.name !== '' ? `task ${t.name}` : `tasks[${i}]`));
  });
  const tasks: ProgramTask[] = design.tasks.map((t, i) => {
    const where = `tasks[${i}]`;
    if (!isObject(t) || typeof t.name !== 'string' || t.name === '') throw err(where, "a task needs a non-empty 'name'");
    if (!isInt(t.cpu) || t.cpu < 0 || t.cpu >= ncpu) throw err(`task ${t.name}`, `cpu ${JSON.stringify(t.cpu)} is not one of the design's ${ncpu} CPUs`);
    if (design.tasks.slice(0, i).some((u) => u.name === t.name)) throw err(where, `two tasks are named '${t.name}'; names must be unique`);
    if (t.replicable !== undefined && typeof t.replicable !== 'boolean') throw err(`task ${t.name}`, `replicable must be true or false, got ${JSON.stringify(t.replicable)}`);
    const allowed = t.allowed ?? [t.cpu];
    if (!Array.isArray(allowed) || !allowed.includes(t.cpu) || !allowed.every((c) => isInt(c) && c >= 0 && c < ncpu)) {
      throw err(`task ${t.name}`, `allowed ${JSON.stringify(t.allowed)} must list CPUs of the design, including its cpu ${t.cpu}`);
    }
    const start = t.start ?? 'boot';
    if (start !== 'boot' && start !== 'kthread_run') throw err(`task ${t.name}`, `start must be 'boot' or 'kthread_run', got ${JSON.stringify(t.start)}`);
    let after = -1;
    if (t.after !== undefined) {
      if (start !== 'boot') throw err(`task ${t.name}`, "a task starts either by kthread_run or after another task, not both");
      const before = typeof t.after === 'string' ? taskIds.get(t.after) : undefined;
      if (before === undefined || before === i) throw err(`task ${t.name}`, `after ${JSON.stringify(t.after)} must name another task (tasks: ${[...taskIds.keys()].join(', ')})`);
      // A cycle of `after`s would keep every task in it unborn for ever.
      for (let k = before, hops = 0; ; hops++) {
        const next = design.tasks[k]?.after;
        if (next === undefined || hops > design.tasks.length) break;
        if (next === t.name) throw err(`task ${t.name}`, `'after' goes round in a circle back to '${t.name}': no task of the circle could ever start`);
        k = taskIds.get(next) ?? -1;
        if (k < 0) break;
      }
      after = before;
    }
    const allowedMask = allowed.reduce((mask, c) => mask | (1 << c), 0);
    const entry = compileEntry(t.body as readonly Stmt[], `task ${t.name}`, i);
    entryRets.add(em.pc - INSN_WIDTH);
    return { name: t.name, cpu: t.cpu, allowedMask, entry, ...(start !== 'boot' || after >= 0 ? { unborn: true as const } : {}), after };
  });
  const irqs: ProgramIrq[] = irqSpecs.map((line, i) => {
    const where = `irqs[${i}]`;
    if (!isObject(line) || typeof line.name !== 'string' || line.name === '') throw err(where, "an interrupt line needs a non-empty 'name'");
    if (irqSpecs.slice(0, i).some((l) => l.name === line.name)) throw err(where, `two interrupt lines are named '${line.name}'; names must be unique`);
    const lineFlags = line.flags ?? [];
    if (!Array.isArray(lineFlags) || !lineFlags.every((f) => (IRQ_FLAGS as readonly string[]).includes(f))) {
      throw err(`irq ${line.name}`, `flags must be a list of ${IRQ_FLAGS.join(', ')} (IRQF_*), got ${JSON.stringify(line.flags)}`);
    }
    const oneshot = lineFlags.includes('ONESHOT');
    if (line.thread !== undefined && !Array.isArray(line.thread)) throw err(`irq ${line.name}`, 'thread must be a list of statements (the thread function of request_threaded_irq)');
    if (line.thread !== undefined && flags.globalBH) throw err(`irq ${line.name}`, 'threaded interrupt handlers (request_threaded_irq) arrived in 2.6.30; the 2.4 profile has none');
    if (line.handler === undefined && line.thread !== undefined && !oneshot) {
      // __setup_irq: "Threaded irq requested with handler=NULL and !ONESHOT for %s (irq %d)", -EINVAL.
      throw err(`irq ${line.name}`, `Threaded irq requested with handler=NULL and !ONESHOT for ${line.name}: a threaded line without a primary handler needs flags: ['ONESHOT']`);
    }
    if (oneshot && line.thread === undefined) throw err(`irq ${line.name}`, 'IRQF_ONESHOT keeps the line masked until the thread function has run: it needs a thread');
    if (line.handler === undefined && line.thread === undefined) throw err(`irq ${line.name}`, 'has no handler: give the line its handler as a list of statements (handler: [...])');
    if (line.handler !== undefined && !Array.isArray(line.handler)) throw err(`irq ${line.name}`, 'handler must be a list of statements');
    const start = line.start ?? 'boot';
    if (start !== 'boot' && start !== 'request_irq') throw err(`irq ${line.name}`, `start must be 'boot' or 'request_irq', got ${JSON.stringify(line.start)}`);
    const cpus = line.cpus ?? [...Array(ncpu).keys()];
    if (!Array.isArray(cpus) || cpus.length === 0 || !cpus.every((c) => isInt(c) && c >= 0 && c < ncpu)) {
      throw err(`irq ${line.name}`, `affinity ${JSON.stringify(cpus)} must list CPUs of the design (0..${ncpu - 1})`);
    }
    const budget = line.budget ?? 1;
    if (!isInt(budget) || budget < 0 || budget > MAX_BUDGET) throw err(`irq ${line.name}`, `budget must be a whole number from 0 to ${MAX_BUDGET}`);
    const cpuMask = cpus.reduce((mask, c) => mask | (1 << c), 0);
    const nmi = line.nmi ?? false;
    if (typeof nmi !== 'boolean') throw err(`irq ${line.name}`, `nmi must be true or false, got ${JSON.stringify(nmi)}`);
    if (nmi && (line.thread !== undefined || lineFlags.length > 0 || start !== 'boot')) {
      // request_nmi (kernel/irq/manage.c) takes no thread function and no IRQF_* flags a model honours here.
      throw err(`irq ${line.name}`, 'an NMI line (request_nmi) has a handler only: no thread, flags or start');
    }
    if (flags.preemptRT && !nmi && !lineFlags.includes('NO_THREAD') && !oneshot) {
      // irq_setup_forced_threading (kernel/irq/manage.c): on RT the handler would run in an irq/N thread
      // (IRQF_NO_THREAD, IRQF_PERCPU and IRQF_ONESHOT lines are left alone).
      throw err(`irq ${line.name}`, "on PREEMPT_RT this handler is force-threaded (irq_setup_forced_threading), which kdefer does not model: give the line flags: ['NO_THREAD'] (IRQF_NO_THREAD, a handler in hardirq context) or check it under a !RT profile");
    }
    // irq_default_primary_handler (handler == NULL) only returns IRQ_WAKE_THREAD: an empty handler.
    const entry = compileEntry((line.handler ?? []) as readonly Stmt[], `irq ${line.name}`);
    entryRets.add(em.pc - INSN_WIDTH);
    // The thread function is called by the irq thread's builtin code (callFrom): not an entry.
    const threadEntry = line.thread !== undefined ? compileEntry(line.thread as readonly Stmt[], `irq ${line.name} thread`) : -1;
    return { name: line.name, entry, cpuMask, budget, requested: start === 'boot', noAutoEn: lineFlags.includes('NO_AUTOEN'), threadEntry, oneshot, nmi };
  });
  // Vectors the kernel raises itself (the irq_work self-IPI), after the design's lines.
  for (const mech of MECHANISMS) {
    for (const vector of mech.vectors?.(shape) ?? []) {
      if (irqNames.includes(vector.name)) throw err('irqs', `the interrupt line name '${vector.name}' is the kernel's ${vector.name} vector here`);
      const entry = builtins[vector.builtin];
      if (entry === undefined) throw new Error(`kdefer internal error: no builtin ${vector.builtin} for vector ${vector.name}`);
      irqs.push({ name: vector.name, entry, cpuMask: (1 << ncpu) - 1, budget: 0, requested: true, noAutoEn: false, threadEntry: -1, oneshot: false, nmi: false, vector: vector.name });
    }
  }
  const softirqEntry = new Int32Array(SOFTIRQS.length).fill(-1);
  SOFTIRQS.forEach((vec, v) => {
    const body = (softirqs as Record<string, readonly Stmt[] | undefined>)[vec];
    if (body) softirqEntry[v] = compileEntry(body, `softirq ${vec}`);
    const action = kernelActions.get(v);
    if (action !== undefined) softirqEntry[v] = builtins[action]!;
  });
  // Kernel threads the mechanisms need (kworkers…), after the design's tasks.
  for (const mech of MECHANISMS) {
    declared.objects = objects;
    for (const th of mech.threads?.(shape) ?? []) {
      const entry = builtins[th.builtin];
      if (entry === undefined) throw new Error(`kdefer internal error: no builtin ${th.builtin} for ${th.name}`);
      tasks.push({
        name: th.name, cpu: th.cpu, entry, allowedMask: th.cpusAllowed ?? 1 << th.cpu,
        ...(th.idle ? { idle: true as const } : {}), ...(th.uncreated ? { uncreated: true as const } : {}),
      });
    }
  }
  if (design.tasks.length === 0 && !irqs.some((l) => l.budget > 0 && l.requested)) {
    throw err('', 'no context can ever run: the design needs a task, or an interrupt line with a budget of at least 1');
  }
  const invariantSpecs = design.invariants ?? [];
  if (!Array.isArray(invariantSpecs)) throw err('invariants', 'must be a list of { name, holds, when?, kind? }');
  const invariants: ProgramInvariant[] = invariantSpecs.map((inv: Invariant, i) => {
    const where = `invariants[${i}]`;
    if (isObject(inv)) checkKeys(inv, INVARIANT_KEYS, fail(where));
    if (!isObject(inv) || typeof inv.name !== 'string' || inv.name === '') throw err(where, "an invariant needs a non-empty 'name'");
    if (inv.holds === undefined) throw err(where, "an invariant needs an expression in 'holds'");
    const when = inv.when ?? 'always';
    if (when !== 'always' && when !== 'at-end') throw err(where, `when must be 'always' or 'at-end', got ${JSON.stringify(when)}`);
    const kind = inv.kind ?? 'assertion';
    if (!isViolationKind(kind)) throw err(where, `unknown violation kind ${JSON.stringify(kind)}`);
    const expr = compileExpr(inv.holds, where, new Set());
    const text = exprText(inv.holds);
    if (/\b(this_cpu_read|smp_processor_id)\(/.test(text)) throw err(where, 'an invariant is about the whole machine: use per_cpu(x, cpu), not this_cpu_read or smp_processor_id');
    const predicate = CONTEXT_PREDICATES.find((c) => text.includes(`${c}()`));
    if (predicate) throw err(where, `an invariant is about the whole machine, not a context: ${predicate}() has no meaning there`);
    return { name: inv.name, expr, text, when, kind };
  });
  flushFnPatches();
  checkAssumptions(design, irqs.map((l) => l.name), err);
  for (const checkAttribute of attributeChecks) checkAttribute();
  const regNames = [...em.regs.keys()];
  const code = Int32Array.from(em.code);
  const exprs = Int32Array.from(em.exprs);
  const liveness = opts.keepDeadRegisters
    ? keepAllRegisters(code.length / INSN_WIDTH)
    : computeLiveness({ code, exprs, nregs: regNames.length, loopRegs: em.loops.map((l) => l.reg), designStart, entryRets, mechanismRegs: [...mechanismRegs] });

  return {
    design,
    fingerprint: fingerprintOf(design),
    flags,
    preempt,
    ticks,
    ncpu,
    code,
    where: em.where,
    text: em.text,
    taskOwner: Int32Array.from(em.owner),
    sleepSites: sleepSitesOf(em.code, em.owner, objects),
    exprs,
    tasks,
    irqs,
    softirqEntry,
    locks: [...locks.values()].map((l) => l.lock),
    vars: [...vars.map.keys()],
    varInit: vars.init,
    percpu: [...percpu.map.keys()],
    percpuInit: percpu.init,
    queues: queueList,
    objects,
    builtins,
    insnStructs: Int32Array.from(em.touch),
    structMembers,
    regs: regNames,
    loops: em.loops,
    invariants,
    designStart,
    liveness,
    builtinRegions,
  };
}

/** The instructions whose operation may block its task (OpSemantics.sleepsOn), with the task that owns each (Program.sleepSites). */
function sleepSitesOf(code: readonly number[], owner: readonly number[], objects: Program['objects']): SleepSite[] {
  const out: SleepSite[] = [];
  for (let pc = 0; pc < code.length; pc += INSN_WIDTH) {
    const op = OPS[code[pc]!]!;
    const on = op.sleepsOn;
    if (!on) continue;
    const operand = code[pc + 1 + on.operand]!;
    let id = operand;
    if (on.attr !== undefined) {
      const spec = op.operands?.[on.operand];
      const attr = spec?.kind === 'object' ? objects[spec.objectKind]?.[operand]?.attrs[on.attr] : undefined;
      if (attr === undefined) throw new Error(`kdefer internal error: ${op.name} sleeps on attribute '${on.attr}' of operand ${on.operand}, which has none`);
      id = attr;
    }
    out.push({ tag: on.chan, id, task: owner[pc / INSN_WIDTH]! });
  }
  return out;
}
