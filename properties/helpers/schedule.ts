/**
 * Drive the one semantics by hand: a schedule is a list of label fragments,
 * and each step takes the single enabled choice whose label
 * (`Machine.label`) contains its fragment. Tests then read the CPU fields of
 * the state through the layout constants, so they pin what the kernel state
 * *is* after each step, not how the model happens to get there.
 */
import { kindOf, type ViolationKind } from '../../model/check/violation.ts';
import { compile, Machine, type Design, type Program } from '../../model/index.ts';
import {
  C_CURTASK, C_DEPTH, FrameKind, H_VIOL_KIND, L_OWNER, X_KIND, X_REGS,
} from '../../model/kernel/layout.ts';

/** A machine stepped one labelled choice at a time. */
export class Schedule {
  readonly p: Program;
  readonly m: Machine;
  /** The current state. */
  s: Int32Array;
  /** Labels of the choices taken so far, in order. */
  readonly labels: string[] = [];
  /** The choices taken so far: a replayable schedule. */
  readonly choices: number[] = [];
  /** The message of the violation the last step raised, if any. */
  message: string | null = null;

  constructor(design: Design) {
    // Tests read registers the design may never read again: keep them.
    this.p = compile(design, { keepDeadRegisters: true });
    this.m = new Machine(this.p);
    this.s = this.m.initial();
  }

  /** Labels of the choices enabled now, in the machine's order. */
  enabledLabels(): string[] {
    const en = this.m.enabled(this.s);
    return en.map((c) => this.m.label(this.s, c));
  }

  /** Whether some enabled choice's label contains `fragment`. */
  can(fragment: string): boolean {
    return this.enabledLabels().some((l) => l.includes(fragment));
  }

  /**
   * Take the one enabled choice whose label contains `fragment`. Throws,
   * listing what is enabled, if none or several match: a schedule that no
   * longer fits the model must fail loudly.
   */
  take(fragment: string): this {
    const en = this.m.enabled(this.s);
    const labels = en.map((c) => this.m.label(this.s, c));
    const hits = labels.flatMap((l, i) => (l.includes(fragment) ? [i] : []));
    if (hits.length !== 1) {
      throw new Error(`schedule step ${this.labels.length}: ${hits.length === 0 ? 'no' : 'more than one'} enabled choice contains '${fragment}'; enabled:\n  ${labels.join('\n  ')}`);
    }
    const i = hits[0]!;
    this.choices.push(en[i]!);
    this.labels.push(labels[i]!);
    this.s = this.m.step(this.s, en[i]!);
    this.message = this.m.message;
    return this;
  }

  /** Take each fragment in turn. */
  run(...fragments: readonly string[]): this {
    for (const f of fragments) this.take(f);
    return this;
  }

  /**
   * Run until nothing is enabled (or a violation, or `maxSteps`): at each
   * step take the first enabled choice whose label contains the earliest
   * fragment of `prefer` that matches any, else the first enabled choice.
   */
  runToEnd(prefer: readonly string[] = [], maxSteps = 10_000): this {
    for (let i = 0; i < maxSteps; i++) {
      const en = this.m.enabled(this.s);
      if (en.length === 0) return this;
      const labels = en.map((c) => this.m.label(this.s, c));
      let pick = 0;
      for (const f of prefer) {
        const hit = labels.findIndex((l) => l.includes(f));
        if (hit >= 0) {
          pick = hit;
          break;
        }
      }
      this.choices.push(en[pick]!);
      this.labels.push(labels[pick]!);
      this.s = this.m.step(this.s, en[pick]!);
      this.message = this.m.message;
    }
    throw new Error(`schedule did not end within ${maxSteps} steps`);
  }

  /** A per-CPU field (C_IRQS_OFF, C_PREEMPT, C_BH, …) of `cpu`. */
  cpu(cpu: number, field: number): number {
    return this.s[this.m.cpuOff(cpu) + field]!;
  }

  /** A per-lock field (L_OWNER, L_READERS, …) of the lock named `name`. */
  lock(name: string, field: number = L_OWNER): number {
    const id = this.p.locks.findIndex((l) => l.name === name);
    if (id < 0) throw new Error(`no lock '${name}'`);
    return this.s[this.m.lockOff(id) + field]!;
  }

  /** A shared design variable. */
  variable(name: string): number {
    const id = this.p.vars.indexOf(name);
    if (id < 0) throw new Error(`no variable '${name}'`);
    return this.s[this.m.L.varBase + id]!;
  }

  /** A register of the task named `task` (e.g. the `flags` of spin_lock_irqsave). */
  taskReg(task: string, reg: string): number {
    const t = this.p.tasks.findIndex((x) => x.name === task);
    const r = this.p.regs.indexOf(reg);
    if (t < 0 || r < 0) throw new Error(`no task '${task}' or register '${reg}'`);
    return this.s[this.m.ctxOff(t) + X_REGS + r]!;
  }

  /** Name of the context on top of `cpu` (`task a`, `hardirq eth0`, `softirq NET_RX`…), or null. */
  topName(cpu: number): string | null {
    this.m.s = this.s;
    const ctx = this.m.top(cpu);
    return ctx < 0 ? null : this.m.contextName(ctx);
  }

  /** Frame kinds stacked on `cpu`, task first (see FrameKind). */
  frames(cpu: number): FrameKind[] {
    const out: FrameKind[] = [];
    if (this.cpu(cpu, C_CURTASK) >= 0) out.push(FrameKind.Task);
    for (let d = 0; d < this.cpu(cpu, C_DEPTH); d++) out.push(this.s[this.m.ctxOff(this.m.frameCtx(cpu, d)) + X_KIND]! as FrameKind);
    return out;
  }

  /** The kind of the violation raised so far, or null. */
  violation(): ViolationKind | null {
    const code = this.s[H_VIOL_KIND]!;
    return code === 0 ? null : kindOf(code);
  }
}

/** A schedule of `design` after taking each fragment in turn. */
export function runSchedule(design: Design, ...fragments: readonly string[]): Schedule {
  return new Schedule(design).run(...fragments);
}
