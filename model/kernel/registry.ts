/**
 * Every mechanism's operations, choice sources and frame exits, gathered in
 * a fixed order. Opcodes are indexes into OPS; choice kinds are 1 + indexes
 * into CHOICE_SOURCES. Adding a mechanism: its file, one line per list here,
 * and its builders in model/dsl/design.ts.
 */
import { DATA_OPS } from './data.ts';
import { IRQ_CHOICES, IRQ_EXITS, IRQ_OPS } from './irq.ts';
import { SCHEDULER_CHOICES, SCHEDULER_EXITS, SCHEDULER_OPS } from './scheduler.ts';
import type { ChoiceSource, FrameExit, ObjectKindSpec, OpSemantics } from './semantics.ts';
import { SLEEP_OBJECTS, SLEEP_OPS } from './sleep.ts';
import { SOFTIRQ_CHOICES, SOFTIRQ_EXITS, SOFTIRQ_OPS } from './softirq.ts';
import { SPINLOCK_OPS } from './spinlock.ts';

export const OPS: readonly OpSemantics[] = [
  ...DATA_OPS,
  ...SOFTIRQ_OPS,
  ...IRQ_OPS,
  ...SPINLOCK_OPS,
  ...SCHEDULER_OPS,
  ...SLEEP_OPS,
];

export const CHOICE_SOURCES: readonly ChoiceSource[] = [
  ...SCHEDULER_CHOICES,
  ...IRQ_CHOICES,
  ...SOFTIRQ_CHOICES,
];

export const FRAME_EXITS: Readonly<Record<number, FrameExit>> = {
  ...SCHEDULER_EXITS,
  ...IRQ_EXITS,
  ...SOFTIRQ_EXITS,
};

export const OBJECT_KINDS: readonly ObjectKindSpec[] = [...SLEEP_OBJECTS];

const OPCODES = new Map<string, number>();
OPS.forEach((op, i) => {
  if (OPCODES.has(op.name)) throw new Error(`kdefer internal error: operation ${op.name} defined twice`);
  OPCODES.set(op.name, i);
});

/** The opcode of a kernel operation, or undefined if the model has none by that name. */
export function opcodeOf(name: string): number | undefined {
  return OPCODES.get(name);
}

export const SOURCE_KIND = new Map<ChoiceSource, number>(CHOICE_SOURCES.map((src, i) => [src, i + 1]));
