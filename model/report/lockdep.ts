/**
 * Lockdep's own reports for a counterexample (shared/lockdep-selftests.md
 * §4; kernel/locking/lockdep.c). The schedule is replayed while keeping
 * lockdep's view of it (lockdep-view.ts), which keeps what lockdep would
 * report at each rule it checks as a *finding*. The violation the explorer
 * found then picks the finding that explains it, printed in the kernel's
 * words:
 *
 *  - an interrupt spinning on a lock its CPU's task holds: "inconsistent
 *    lock state" (mark_lock_irq → print_usage_bug);
 *  - a circular wait across CPUs: "possible circular locking dependency
 *    detected" (check_noncircular → print_circular_bug);
 *  - an irq-safe lock ordered before an irq-unsafe one: "HARDIRQ-safe ->
 *    HARDIRQ-unsafe lock order detected" (check_irq_usage →
 *    print_bad_irq_dependency), or "possible irq lock inversion dependency
 *    detected" when the usage changed last (print_irq_inversion_bug);
 *  - a recursive acquisition: "possible recursive locking detected"
 *    (check_deadlock → print_deadlock_bug);
 *  - a release of a lock not held: "bad unlock balance detected!"
 *    (print_unlock_imbalance_bug);
 *  - a task that finishes holding a lock: "lock held when returning to
 *    user space!" (lockdep_sys_exit).
 *
 * What differs from a kernel's splat, by necessity: there are no
 * addresses; a lock line's `at:` names the design instruction; a "trace"
 * is the step of the schedule that did it; the identity line says this is
 * a model.
 */
import type { WaitStep } from '../check/deadlock.ts';
import type { ViolationKind } from '../check/violation.ts';
import { H_VIOL_CTX, H_VIOL_KIND, H_VIOL_PC, X_PC } from '../kernel/layout.ts';
import { LOCK_KINDS } from '../kernel/lock-kinds.ts';
import { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH, type Program } from '../kernel/program.ts';
import {
  BAD_IRQ_DEPENDENCY_WIDTH, badIrqDependencyHead, chainExists, circularHead, circularScenario, header, ident, LockdepPrinter, lockOp,
  recursiveScenario, SCENARIO_COL, usageScenario,
} from './lockdep-text.ts';
import { LockdepView, USAGE_STR, type Curr, type Dep, type Finding, type Hlock, type IrqStamp, type Site } from './lockdep-view.ts';
import { lockOpShape, observeSchedule, type CpuView, type ScheduleView, type StepView } from './observe.ts';

/** The part of a violation a report needs (a VerdictViolation or an explorer's Violation). */
export interface ReportedViolation {
  readonly kind: ViolationKind;
  readonly message: string;
  readonly cpu: number;
  readonly context: string;
  readonly cycle?: readonly WaitStep[];
}

// ------------------------------------------------------------ printing

/** A counterexample's printer: the design's locks as the replayed schedule used them, traces naming its steps. */
class Printer extends LockdepPrinter<Site> {
  readonly usageOf: Uint16Array;

  constructor(readonly p: Program, readonly view: LockdepView, f: Finding) {
    super();
    this.usageOf = f.usage;
  }

  name(lock: number): string {
    return this.view.names[lock]!;
  }

  has(lock: number, bit: number): boolean {
    return (this.usageOf[lock]! & (1 << bit)) !== 0;
  }

  usageSite(lock: number, bit: number): Site | null {
    return this.view.usageSite[lock]![bit] ?? null;
  }

  /** print_lock_name(): -{outer:inner}, the lock type's wait types (model/kernel/lock-kinds.ts). */
  waitInner(lock: number): number {
    return LOCK_KINDS[this.p.locks[lock]!.kind].waitInner;
  }

  key(lock: number): string {
    return `lock '${this.p.locks[lock]!.name}' of the design`;
  }

  /** A trace: the step that did it, indented as lockdep indents its stack traces. */
  trace(site: Site | null, spaces: number): string {
    const pad = ' '.repeat(spaces + 1);
    if (!site || site.step === 0) return `${pad}(before the schedule starts)`;
    return `${pad}step ${site.step}: ${site.label}`;
  }

  /** print_lock(): the class and where it was taken. */
  lockLine(h: Hlock): string {
    return `${this.classLine(h.lock)}, at: ${h.site.at}`;
  }

  held(curr: Curr): void {
    this.heldLines(curr.comm, curr.pid, curr.held.map((h) => this.lockLine(h)));
  }

  irqStamps(curr: Curr): void {
    const s = curr.stamps;
    const at = (x: IrqStamp): string => `(${x.n}): ${x.site ? `step ${x.site.step}: ${x.site.label}` : 'start of the schedule'}`;
    this.push(
      `irq event stamp: ${s.events}`,
      `hardirqs last  enabled at ${at(s.hardOn)}`,
      `hardirqs last disabled at ${at(s.hardOff)}`,
      `softirqs last  enabled at ${at(s.softOn)}`,
      `softirqs last disabled at ${at(s.softOff)}`,
    );
  }

  /** The model's stack of the task, innermost first, in the shape of a kernel call trace. */
  backtrace(curr: Curr, at: Site | null): void {
    this.push('', 'stack backtrace:', `CPU: ${curr.cpu} PID: ${curr.pid} Comm: ${curr.comm} ${ident(this.p)}`, 'Call Trace:');
    const frames = [...curr.frames].reverse();
    frames.forEach((f, i) => {
      const tag = f.kind === 'hardirq' ? 'IRQ' : f.kind === 'softirq' ? 'SOFTIRQ' : 'TASK';
      const where = i === 0 && at && at.at ? at.at : `${f.where}: ${f.insn}`;
      this.push(` <${tag}>`, `  ${f.name}: ${where}`, ` </${tag}>`);
    });
  }

  /** A path of the replayed dependencies (LockdepPrinter.dependencies), each edge at the step that made it. */
  path(root: number, rootSite: Site, path: readonly Dep[], direction: 'towards' | 'away'): void {
    this.dependencies(path, (d) => d, root, rootSite, direction);
  }
}

function render(p: Program, view: LockdepView, f: Finding): string {
  const out = new Printer(p, view, f);
  const c = f.curr;
  const who = `${c.comm}/${c.pid}`;
  switch (f.kind) {
    case 'inconsistent': {
      out.push(...header(p, 'WARNING: inconsistent lock state'));
      out.push(
        `inconsistent {${USAGE_STR[f.oldBit]}} -> {${USAGE_STR[f.newBit]}} usage.`,
        `${who} ${c.bracket} takes:`,
        out.lockLine(f.hlock),
        `{${USAGE_STR[f.oldBit]}} state was registered at:`,
        out.trace(out.usageSite(f.hlock.lock, f.oldBit), 1),
      );
      out.irqStamps(c);
      out.push(...usageScenario(out.name(f.hlock.lock)));
      out.held(c);
      out.backtrace(c, f.hlock.site.step === f.step ? f.hlock.site : null);
      break;
    }
    case 'recursive': {
      out.push(...header(p, 'WARNING: possible recursive locking detected'));
      const name = out.name(f.next.lock);
      out.push(
        `${who} is trying to acquire lock:`,
        out.lockLine(f.next),
        '',
        'but task is already holding lock:',
        out.lockLine(f.prev),
        '',
        ...recursiveScenario(`${lockOp(f.prev.read !== 0)}(${name})`, `${lockOp(f.next.read !== 0)}(${name})`),
      );
      out.held(c);
      out.backtrace(c, f.next.site);
      break;
    }
    case 'circular': {
      out.push(...header(p, 'WARNING: possible circular locking dependency detected'));
      out.push(...circularHead(who, out.lockLine(f.next), out.lockLine(f.prev)));
      // path: next → … → prev; printed from prev (#k) down to next (#0, the acquisition now).
      const k = f.path.length;
      for (let i = k - 1; i >= 0; i--) {
        const d = f.path[i]!;
        out.push('', `-> #${i + 1} ${out.classLine(d.to)}:`, out.trace(d.site, 6));
      }
      out.push('', `-> #0 ${out.classLine(f.next.lock)}:`, out.trace(f.next.site, 6), '', 'other info that might help us debug this:', '');
      const parent = f.path[k - 1]!.from;
      if (parent !== f.next.lock) out.push(...chainExists(out.name(f.next.lock), out.name(parent), out.name(f.prev.lock)));
      out.push(' Possible unsafe locking scenario:', '');
      out.push(...scheduleScenario(view, f));
      out.push('', ' *** DEADLOCK ***', '');
      out.held(c);
      out.backtrace(c, f.next.site);
      break;
    }
    case 'bad-irq-dependency': {
      const cls = f.irqclass;
      out.push(...header(p, `WARNING: ${cls}-safe -> ${cls}-unsafe lock order detected`, BAD_IRQ_DEPENDENCY_WIDTH));
      out.push(...badIrqDependencyHead({
        who: `${who} ${c.bracket}`,
        cls,
        nextLine: out.lockLine(f.next),
        prevLine: out.lockLine(f.prev),
        prevClass: out.classLine(f.prev.lock),
        nextClass: out.classLine(f.next.lock),
        safeClass: out.classLine(f.safe),
        safeTrace: out.trace(out.usageSite(f.safe, f.safeBit), 1),
        unsafeClass: out.classLine(f.unsafe),
        unsafeTrace: out.trace(out.usageSite(f.unsafe, f.unsafeBit), 1),
      }));
      out.irqScenario(f.safe, f.unsafe, f.prev.lock === f.safe ? f.next.lock : f.prev.lock);
      out.held(c);
      out.push('', `the dependencies between ${cls}-irq-safe lock and the holding lock:`);
      out.path(f.prev.lock, f.prev.site, f.backPath, 'towards');
      out.push('', `the dependencies between the lock to be acquired and ${cls}-irq-unsafe lock:`);
      out.path(f.next.lock, f.next.site, f.fwdPath, 'away');
      out.backtrace(c, f.next.site);
      break;
    }
    case 'inversion': {
      out.push(...header(p, 'WARNING: possible irq lock inversion dependency detected'));
      out.push(`${who} just changed the state of lock:`, out.lockLine(f.hlock));
      out.push(f.forwards
        ? `but this lock took another, ${f.irqclass}-unsafe lock in the past:`
        : `but this lock was taken by another, ${f.irqclass}-safe lock in the past:`);
      out.push(` ${out.classLine(f.other)}`, '', '', 'and interrupts could create inverse lock ordering between them.', '', '', 'other info that might help us debug this:');
      // f.path runs safe → … → unsafe; the middle lock is the one after the safe lock.
      const safe = f.forwards ? f.hlock.lock : f.other;
      const unsafe = f.forwards ? f.other : f.hlock.lock;
      const middle = f.path.length > 0 ? f.path[0]!.to : unsafe;
      out.irqScenario(safe, unsafe, middle);
      out.held(c);
      out.push('', 'the shortest dependencies between 2nd lock and 1st lock:');
      out.path(f.hlock.lock, f.hlock.site, f.path, f.forwards ? 'away' : 'towards');
      out.backtrace(c, f.hlock.site.step === f.step ? f.hlock.site : null);
      break;
    }
    case 'bad-unlock': {
      out.push(...header(p, 'WARNING: bad unlock balance detected!'));
      out.push(
        `${who} is trying to release lock (${out.name(f.lock)}) at:`,
        f.at,
        'but there are no more locks to release!',
        '',
        'other info that might help us debug this:',
      );
      out.held(c);
      out.backtrace(c, null);
      break;
    }
    case 'user-return': {
      out.push(...header(p, 'WARNING: lock held when returning to user space!'));
      out.push(`${who} is leaving the kernel with locks still held!`);
      out.held(c);
      break;
    }
  }
  return out.text();
}

/**
 * The CPU0/CPU1 scenario of a circular dependency. For a two-lock cycle
 * whose two sides ran on two CPUs, the columns are those CPUs and the
 * lines come in the order of the schedule; otherwise lockdep's own
 * abstract scenario (print_circular_lock_scenario).
 */
function scheduleScenario(view: LockdepView, f: Finding & { kind: 'circular' }): string[] {
  const names = view.names;
  if (f.path.length === 1) {
    const d = f.path[0]!;
    const mine = f.curr.cpu;
    if (d.cpu !== mine) {
      const events = [
        { step: d.prevSite.step, cpu: d.cpu, text: `${lockOp(d.prevRead)}(${names[d.from]});` },
        { step: d.site.step, cpu: d.cpu, text: `${lockOp(d.nextRead)}(${names[d.to]});` },
        { step: f.prev.site.step, cpu: mine, text: `${lockOp(f.prev.read !== 0)}(${names[f.prev.lock]});` },
        { step: f.next.site.step, cpu: mine, text: `${lockOp(f.next.read !== 0)}(${names[f.next.lock]});` },
      ].sort((a, b) => a.step - b.step || a.cpu - b.cpu);
      const left = Math.min(mine, d.cpu);
      const right = Math.max(mine, d.cpu);
      return [
        `${`       CPU${left}`.padEnd(31)}CPU${right}`,
        '       ----                    ----',
        ...events.map((e) => (e.cpu === left ? `  ${e.text}` : `${SCENARIO_COL}${e.text}`)),
      ];
    }
  }
  const parent = f.path[f.path.length - 1]!.from;
  const prev = names[f.prev.lock]!;
  return circularScenario(`${lockOp(f.prev.read !== 0)}(${prev})`, names[parent]!, prev, `${lockOp(f.next.read !== 0)}(${names[f.next.lock]})`);
}

// ------------------------------------------------------- choosing

/** The classes a deadlock is about: the locks its contexts wait for; null if it is not only about locks. */
function deadlockLocks(view: ScheduleView, v: ReportedViolation): Set<number> | null {
  const cpus = view.steps.length > 0 ? view.steps[view.steps.length - 1]!.cpus : view.initial;
  const locks = new Set<number>();
  if (!v.cycle || v.cycle.length === 0) {
    for (const c of cpus) for (const f of [...c.stack, ...c.asleep]) if (f.waiting) locks.add(f.waiting.lock);
    return locks.size > 0 ? locks : null;
  }
  const found = v.cycle.map((w) => {
    const cpu = cpus[w.cpu];
    const frame = cpu?.stack.find((x) => x.name === w.context) ?? cpu?.asleep.find((x) => x.name === w.context);
    return frame && cpu ? { frame, stack: cpu.stack } : null;
  });
  for (let i = 0; i < found.length; i++) {
    const here = found[i];
    const next = found[(i + 1) % found.length];
    if (!here || !next) return null;
    // Each context of the cycle waits for a lock, or for the frame that interrupted it.
    const interrupted = here.stack.includes(here.frame) && here.stack.indexOf(next.frame) > here.stack.indexOf(here.frame);
    if (here.frame.waiting) locks.add(here.frame.waiting.lock);
    else if (!interrupted) return null;
  }
  return locks.size > 0 ? locks : null;
}

/** The context that raised the violation of the final state, with its CPU after the last step. */
function violator(view: ScheduleView): { ctx: number; cpu: CpuView; last: StepView } | null {
  const s = view.final;
  const last = view.steps[view.steps.length - 1];
  if (s[H_VIOL_KIND] === 0 || !last) return null;
  const ctx = s[H_VIOL_CTX]!;
  const cpu = last.cpus.find((c) => c.stack.some((f) => f.ctx === ctx) || c.asleep.some((f) => f.ctx === ctx));
  return cpu ? { ctx, cpu, last } : null;
}

/** For a lock-misuse violation raised by a release: the bad-unlock finding, if lockdep would see one. */
function badUnlock(p: Program, view: ScheduleView, ld: LockdepView): Finding | null {
  const who = violator(view);
  if (!who) return null;
  const m = new Machine(p);
  const pc = who.ctx >= 0 ? view.final[m.ctxOff(who.ctx) + X_PC]! : view.final[H_VIOL_PC]!;
  const shape = lockOpShape(m.code[pc]!);
  if (!shape || shape.action !== 'release') return null;
  const lock = m.code[pc + 1]!;
  ld.step = who.last;
  const curr = ld.currOf(who.cpu, who.ctx);
  if (curr.held.some((h) => h.lock === lock)) return null;
  const insn = pc / INSN_WIDTH;
  return { ...ld.base(curr, [lock]), kind: 'bad-unlock', lock, at: `${p.where[insn]}: ${p.text[insn]}` };
}

/** For a lock-leak violation of a task that returns holding locks: lockdep_sys_exit's finding. */
function userReturn(view: ScheduleView, ld: LockdepView): Finding | null {
  const who = violator(view);
  if (!who) return null;
  const frame = who.cpu.stack.find((f) => f.ctx === who.ctx);
  if (!frame || frame.kind !== 'task' || who.cpu.stack[0] !== frame) return null;
  ld.step = who.last;
  const curr = ld.currOf(who.cpu, who.ctx);
  return curr.held.length > 0 ? { ...ld.base(curr, curr.held.map((h) => h.lock)), kind: 'user-return' } : null;
}

/**
 * Lockdep's report for `violation`, reached by replaying `choices` on `p`,
 * or null if lockdep has no report for it (sleeping in atomic context, an
 * assertion, a use-after-free, a lost wakeup, a deadlock through something
 * other than locks…). Deterministic.
 */
export function lockdepReport(p: Program, choices: readonly number[], violation: ReportedViolation): string | null {
  const view = observeSchedule(p, choices);
  if (view.mismatch) return null;
  const ld = new LockdepView(p);
  for (const st of view.steps) ld.replayStep(view, st);
  let finding: Finding | null = null;
  switch (violation.kind) {
    case 'deadlock': {
      // A context re-acquiring a lock it holds deadlocks at that step (model/kernel/held-locks.ts): lockdep's recursion report.
      const last = view.steps.length;
      const recursion = ld.findings.find((f) => f.step === last && f.kind === 'recursive');
      if (recursion && !violation.cycle) {
        finding = recursion;
        break;
      }
      const locks = deadlockLocks(view, violation);
      if (!locks) return null;
      finding = ld.findings.find((f) => f.locks.some((l) => locks.has(l))) ?? null;
      break;
    }
    case 'lock-misuse': {
      const last = view.steps.length;
      finding = ld.findings.find((f) => f.step === last && (f.kind === 'recursive' || f.kind === 'inconsistent')) ?? badUnlock(p, view, ld);
      break;
    }
    case 'lock-leak':
      finding = userReturn(view, ld);
      break;
    case 'lockdep':
      finding = ld.findings[0] ?? null;
      break;
    default:
      return null;
  }
  return finding ? render(p, ld, finding) : null;
}

/** Every report lockdep would make along the schedule, in order (lockdep itself prints only the first). */
export function lockdepFindings(p: Program, choices: readonly number[]): string[] {
  const view = observeSchedule(p, choices);
  const ld = new LockdepView(p);
  for (const st of view.steps) ld.replayStep(view, st);
  return ld.findings.map((f) => render(p, ld, f));
}
