/**
 * Every mechanism, in a fixed order. Opcodes are indexes into OPS; choice
 * kinds are 1 + indexes into CHOICE_SOURCES. Adding a mechanism: its file,
 * one line in MECHANISMS, and its builders in model/dsl/design.ts.
 */
import { ATOMIC } from './atomic.ts';
import { BH } from './bh.ts';
import { DATA } from './data.ts';
import { IRQ } from './irq.ts';
import { IRQ_WORK } from './irq_work.ts';
import { KTHREAD } from './kthread.ts';
import { LIFETIME } from './lifetime.ts';
import { NAPI_MECHANISM } from './napi.ts';
import { RCU } from './rcu.ts';
import { SCHEDULER } from './scheduler.ts';
import { SEQCOUNT } from './seqcount.ts';
import type { BuiltinCode, ChoiceSource, Expansion, FrameExit, Mechanism, ObjectKindSpec, OpSemantics } from './semantics.ts';
import { LOCAL_LOCK_MECHANISM } from './local_lock.ts';
import { RWSEM_MECHANISM } from './rwsem.ts';
import { SLEEP } from './sleep.ts';
import { SOCK_MECHANISM } from './sock.ts';
import { SOFTIRQ } from './softirq.ts';
import { SPINLOCK } from './spinlock.ts';
import { TASKLET } from './tasklet.ts';
import { TIMER } from './timer.ts';
import { WORKQUEUE } from './workqueue.ts';

export const MECHANISMS: readonly Mechanism[] = [
  DATA, SOFTIRQ, IRQ, SPINLOCK, SCHEDULER, SLEEP, RWSEM_MECHANISM, LOCAL_LOCK_MECHANISM, TASKLET, BH, TIMER, WORKQUEUE, LIFETIME,
  ATOMIC, KTHREAD, SEQCOUNT, RCU, IRQ_WORK, NAPI_MECHANISM, SOCK_MECHANISM,
];

export const OPS: readonly OpSemantics[] = MECHANISMS.flatMap((m) => m.ops ?? []);
/** The mechanism each operation, choice source and frame exit belongs to, for its default footprint. */
export const OP_MECHANISM: readonly Mechanism[] = MECHANISMS.flatMap((m) => (m.ops ?? []).map(() => m));
export const SOURCE_MECHANISM = new Map<ChoiceSource, Mechanism>(MECHANISMS.flatMap((m) => (m.choices ?? []).map((c) => [c, m] as const)));
export const EXIT_MECHANISM: Readonly<Record<number, Mechanism>> = Object.fromEntries(
  MECHANISMS.flatMap((m) => Object.keys(m.exits ?? {}).map((kind) => [kind, m] as const)),
);
export const CHOICE_SOURCES: readonly ChoiceSource[] = MECHANISMS.flatMap((m) => m.choices ?? []);
export const FRAME_EXITS: Readonly<Record<number, FrameExit>> = Object.assign({}, ...MECHANISMS.map((m) => m.exits ?? {}));
export const OBJECT_KINDS: readonly ObjectKindSpec[] = MECHANISMS.flatMap((m) => m.objects ?? []);
export const BUILTINS: readonly BuiltinCode[] = MECHANISMS.flatMap((m) => m.builtins ?? []);
export const GUARDS = MECHANISMS.flatMap((m) => (m.guard ? [m.guard] : []));
export const FRAME_NAMES = MECHANISMS.flatMap((m) => (m.frameName ? [m.frameName] : []));
export const END_BOUNDS = MECHANISMS.flatMap((m) => (m.endBound ? [m.endBound] : []));
export const AFTER_STEP = MECHANISMS.flatMap((m) => (m.afterStep ? [m.afterStep] : []));

/** Kernel functions the compiler expands, by name (see Expansion). */
export const EXPANSIONS: ReadonlyMap<string, Expansion> = new Map(MECHANISMS.flatMap((m) => (m.expansions ?? []).map((e) => [e.name, e] as const)));
/** The mechanism each expansion belongs to, by name. */
export const EXPANSION_MECHANISM: ReadonlyMap<string, Mechanism> = new Map(MECHANISMS.flatMap((m) => (m.expansions ?? []).map((e) => [e.name, m] as const)));
export const LOCKDEP_MAPS_HELD = MECHANISMS.flatMap((m) => (m.lockdepMapsHeld ? [m.lockdepMapsHeld] : []));

const OPCODES = new Map<string, number>();
OPS.forEach((op, i) => {
  if (OPCODES.has(op.name)) throw new Error(`kdefer internal error: operation ${op.name} defined twice`);
  OPCODES.set(op.name, i);
});
for (const name of EXPANSIONS.keys()) {
  if (OPCODES.has(name)) throw new Error(`kdefer internal error: ${name} is both an operation and an expansion`);
}

/** The opcode of a kernel operation, or undefined if the model has none by that name. */
export function opcodeOf(name: string): number | undefined {
  return OPCODES.get(name);
}

export const SOURCE_KIND = new Map<ChoiceSource, number>(CHOICE_SOURCES.map((src, i) => [src, i + 1]));
