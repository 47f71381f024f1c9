/**
 * Register liveness, so that two states no future step can tell apart are
 * one state: a register whose value no later step reads is zeroed as soon
 * as its context reaches an instruction where it is dead (Machine.killDead).
 *
 * The registers of a context are one file shared by all the code it runs:
 * its own body, and the design code mechanism code calls from it
 * (callFrom: a tasklet function from the tasklet action, a tq routine from
 * run_task_queue). So a region entered by callFrom must keep alive every
 * register a design caller may hold across such a call: live-out at the
 * `ret` of a callee region is `protected`, the registers live at any design
 * instruction that may call design code (OpSemantics.callsDesignCode), and
 * builtin kernel code keeps them alive throughout. Task bodies and irq
 * handlers are never called: live-out at their `ret` is empty.
 *
 * A multi-step instruction may write its register in an early phase and
 * stay at the same pc (spin_lock_irqsave saves the flags, then spins): the
 * registers it defines are zeroed only while it has not started (phase 0).
 */
import { E_END, E_REG } from '../kernel/data.ts';
import { INSN_WIDTH } from '../kernel/program.ts';
import { OPS } from '../kernel/registry.ts';
import type { OperandSpec } from '../kernel/semantics.ts';

/** What the liveness analysis needs of a compiled program. */
export interface LivenessInput {
  readonly code: Int32Array;
  readonly exprs: Int32Array;
  readonly nregs: number;
  /** The loop table: the counter register of each `while`. */
  readonly loopRegs: readonly number[];
  /** Instructions before this pc are builtin kernel code. */
  readonly designStart: number;
  /** pcs of the `ret` ending a task body or an irq handler (never a callFrom target). */
  readonly entryRets: ReadonlySet<number>;
  /**
   * Registers mechanism code reads or writes by name around the design
   * code it calls (DeclareContext.reg: a NAPI poll's `work`, a socket's
   * `skb`): kept alive through called code, as the protected ones are.
   */
  readonly mechanismRegs?: readonly number[];
}

/** Per instruction (pc / INSN_WIDTH): registers to zero on reaching it, before it starts and while it runs. */
export interface Liveness {
  /** Offsets into `regs` of each instruction's list, for phase 0; length ninsn + 1. */
  readonly deadAtStart: Int32Array;
  /** Likewise, for a later phase (the instruction's own definitions are kept). */
  readonly deadInPhase: Int32Array;
  /** The register lists, concatenated: deadAtStart lists then deadInPhase lists. */
  readonly regs: Int32Array;
  /** Registers kept alive through called code (see the file comment). */
  readonly protectedRegs: readonly number[];
}

const opByName = (name: string) => OPS.findIndex((o) => o.name === name);
const JMP = opByName('jmp');
const BRZ = opByName('brz');
const WHILE = opByName('while');
const RET = opByName('ret');

/**
 * The pcs control can go to after the instruction at `pc` completes, within
 * its own code: branches and loops, or the next instruction; none after a
 * `ret` or inside builtin kernel code (below `designStart`), whose control
 * flow is the mechanisms' own.
 */
export function successors(code: Int32Array, pc: number, designStart: number): number[] {
  if (pc < designStart) return [];
  const opcode = code[pc]!;
  if (opcode === JMP) return [code[pc + 1]!];
  if (opcode === BRZ || opcode === WHILE) return [pc + INSN_WIDTH, code[pc + 2]!];
  if (opcode === RET) return [];
  return [pc + INSN_WIDTH];
}

/** Registers an expression reads. */
function exprRegs(exprs: Int32Array, off: number, out: Set<number>): void {
  for (let i = off; exprs[i] !== E_END; i += 2) if (exprs[i] === E_REG) out.add(exprs[i + 1]!);
}

/** Which operand slot (1..3) each spec fills: a packed operand (int, flag, register) shares the slot before it. */
function slots(specs: readonly OperandSpec[]): number[] {
  const out: number[] = [];
  let slot = 0;
  for (const spec of specs) {
    if ('packed' in spec && spec.packed) out.push(slot);
    else out.push(++slot);
  }
  return out;
}

export function computeLiveness(input: LivenessInput): Liveness {
  const { code, exprs, nregs, loopRegs, designStart, entryRets } = input;
  const ninsn = code.length / INSN_WIDTH;

  const uses: Set<number>[] = [];
  const defs: Set<number>[] = [];
  const succ: number[][] = [];
  for (let k = 0; k < ninsn; k++) {
    const pc = k * INSN_WIDTH;
    const opcode = code[pc]!;
    const [a, b, c] = [code[pc + 1]!, code[pc + 2]!, code[pc + 3]!];
    const use = new Set<number>();
    const def = new Set<number>();
    const next = successors(code, pc, designStart);
    if (pc < designStart || opcode === JMP || opcode === RET) {
      // no registers
    } else if (opcode === BRZ) {
      exprRegs(exprs, a, use);
    } else if (opcode === WHILE) {
      exprRegs(exprs, a, use);
      use.add(loopRegs[c]!);
      def.add(loopRegs[c]!);
    } else {
      const specs = OPS[opcode]!.operands ?? [];
      const slotOf = slots(specs);
      const operand = [0, a, b, c];
      specs.forEach((spec, i) => {
        const slot = slotOf[i]!;
        const raw = operand[slot]!;
        // A packed int is the high half; a packed register is stored as register + 1 there.
        const value = spec.kind === 'int' && spec.packed ? raw >> 16 : spec.kind === 'reg-def' && spec.packed ? (raw >>> 16) - 1 : raw;
        if (spec.kind === 'reg-def' && value >= 0) def.add(value & 0xffff);
        else if (spec.kind === 'reg-use') use.add(value & 0xffff);
        else if (spec.kind === 'expr') exprRegs(exprs, value & 0xffff, use);
      });
    }
    uses.push(use);
    defs.push(def);
    succ.push(next.map((t) => t / INSN_WIDTH));
  }

  // Backward dataflow to a fixpoint; `protectedRegs` grows with the live sets it feeds.
  let protectedSet = new Set<number>(input.mechanismRegs ?? []);
  let liveIn: Set<number>[] = [];
  for (;;) {
    liveIn = Array.from({ length: ninsn }, () => new Set<number>());
    for (let changed = true; changed; ) {
      changed = false;
      for (let k = ninsn - 1; k >= 0; k--) {
        const pc = k * INSN_WIDTH;
        const out = new Set<number>();
        if (pc < designStart) for (const r of protectedSet) out.add(r);
        else if (code[pc] === RET && !entryRets.has(pc)) for (const r of protectedSet) out.add(r);
        for (const t of succ[k]!) for (const r of liveIn[t] ?? []) out.add(r);
        const inn = new Set(uses[k]);
        for (const r of out) if (!defs[k]!.has(r)) inn.add(r);
        if (inn.size !== liveIn[k]!.size) {
          liveIn[k] = inn;
          changed = true;
        }
      }
    }
    const next = new Set(protectedSet);
    for (let k = 0; k < ninsn; k++) {
      const pc = k * INSN_WIDTH;
      if (pc < designStart || !OPS[code[pc]!]!.callsDesignCode) continue;
      for (const r of liveIn[k]!) next.add(r);
      for (const t of succ[k]!) for (const r of liveIn[t] ?? []) next.add(r);
    }
    if (next.size === protectedSet.size) break;
    protectedSet = next;
  }

  const starts: number[][] = [];
  const phases: number[][] = [];
  for (let k = 0; k < ninsn; k++) {
    const start: number[] = [];
    const phase: number[] = [];
    for (let r = 0; r < nregs; r++) {
      if (liveIn[k]!.has(r)) continue;
      start.push(r);
      if (!defs[k]!.has(r)) phase.push(r);
    }
    starts.push(start);
    phases.push(phase);
  }
  const regs: number[] = [];
  const deadAtStart = new Int32Array(ninsn + 1);
  const deadInPhase = new Int32Array(ninsn + 1);
  for (let k = 0; k < ninsn; k++) {
    deadAtStart[k] = regs.length;
    regs.push(...starts[k]!);
  }
  deadAtStart[ninsn] = regs.length;
  for (let k = 0; k < ninsn; k++) {
    deadInPhase[k] = regs.length;
    regs.push(...phases[k]!);
  }
  deadInPhase[ninsn] = regs.length;
  return { deadAtStart, deadInPhase, regs: Int32Array.from(regs), protectedRegs: [...protectedSet].sort((x, y) => x - y) };
}

/** A liveness that zeroes nothing (CompileOptions.keepDeadRegisters). */
export function keepAllRegisters(ninsn: number): Liveness {
  return { deadAtStart: new Int32Array(ninsn + 1), deadInPhase: new Int32Array(ninsn + 1), regs: new Int32Array(0), protectedRegs: [] };
}
