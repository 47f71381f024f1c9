/**
 * lockdep's report (kernel/locking/lockdep.c print_*_bug;
 * shared/lockdep-selftests.md §4.4) of each problem lockdep predicts over
 * every explored execution (model/check/lockdep.ts), in the texts it
 * shares with a counterexample's report (lockdep-text.ts).
 *
 * What differs from a kernel's splat, by necessity: there are no
 * addresses; a lock line's `at:` names the design instruction where the
 * fact was first seen (in the order of model/check/lockdep.ts, the same
 * whatever the exploration order); a "trace" is that instruction and its
 * context; the held locks carry no `at:` (the state does not remember
 * where a held lock was taken); there are no irq event stamps (they belong
 * to one run); the identity line says this is a model.
 */
import type { DepStep, LockdepFacts, LockdepFinding, Site } from '../check/lockdep.ts';
import { USAGE_STR } from '../check/lockdep.ts';
import {
  BAD_IRQ_DEPENDENCY_WIDTH, badIrqDependencyHead, chainExists, circularHead, circularScenario, header, LockdepPrinter, lockOp,
  recursiveScenario, usageScenario,
} from './lockdep-text.ts';

/** A prediction's printer: classes and their facts, traces naming where a fact was first seen. */
class Printer extends LockdepPrinter<Site> {
  constructor(readonly facts: LockdepFacts) {
    super();
  }

  name(cls: number): string {
    return this.facts.classes.list[cls]!.name;
  }

  has(cls: number, bit: number): boolean {
    return this.facts.has(cls, bit);
  }

  usageSite(cls: number, bit: number): Site | null {
    return this.facts.usageSite[cls]![bit] ?? null;
  }

  waitInner(cls: number): number {
    return this.facts.classes.list[cls]!.waitInner;
  }

  key(cls: number): string {
    const c = this.facts.classes.list[cls]!;
    return c.map ? `the lockdep map of ${c.map.kind} '${this.facts.p.objects[c.map.kind]![c.map.id]!.name}'` : `class '${this.facts.p.locks[c.locks[0]!]!.class}' of the design`;
  }

  trace(site: Site | null, spaces: number): string {
    const pad = ' '.repeat(spaces + 1);
    return site ? `${pad}${site.where}: ${site.text} (${site.ctx}, cpu${site.cpu})` : `${pad}(not seen)`;
  }

  /** print_lock(): the class and the instruction. */
  lockLine(cls: number, site: Site | null): string {
    return `${this.classLine(cls)}${site ? `, at: ${site.where}: ${site.text}` : ''}`;
  }

  /** The locks held where the fact was seen (the state does not remember where each was taken). */
  held(site: Site): void {
    this.heldLines(site.comm, site.pid, site.held.map((h) => this.classLine(h.cls)));
  }

  backtrace(site: Site): void {
    this.push('', 'stack backtrace:', ` ${site.ctx} on cpu${site.cpu}: ${site.where}: ${site.text}`);
  }

  /** A path of lockdep's dependency graph (LockdepPrinter.dependencies), each edge at its first site. */
  path(path: readonly DepStep[], root: number, rootSite: Site | null, direction: 'towards' | 'away'): void {
    this.dependencies(path, (st) => ({ from: st.dep.from, to: st.dep.to, site: stepSite(st) }), root, rootSite, direction);
  }
}

const stepSite = (st: DepStep): Site | null => st.dep.sites[st.type] ?? null;

/** lockdep's report of one predicted problem, deterministic. */
export function predictionReport(facts: LockdepFacts, f: LockdepFinding): string {
  const out = new Printer(facts);
  const p = facts.p;
  switch (f.kind) {
    case 'recursive': {
      const { fact } = f;
      const site = fact.site;
      out.push(...header(p, f.title));
      out.push(
        `${site.comm}/${site.pid} is trying to acquire lock:`,
        out.lockLine(fact.next.cls, site),
        '',
        'but task is already holding lock:',
        out.lockLine(fact.prev.cls, null),
        '',
        ...recursiveScenario(`${lockOp(fact.prev.read !== 0)}(${out.name(fact.prev.cls)})`, `${lockOp(fact.next.read !== 0)}(${out.name(fact.next.cls)})`),
      );
      out.held(site);
      out.backtrace(site);
      break;
    }
    case 'inconsistent': {
      const site = facts.usageSite[f.cls]![f.newBit]!;
      out.push(...header(p, f.title));
      out.push(
        `inconsistent {${USAGE_STR[f.oldBit]}} -> {${USAGE_STR[f.newBit]}} usage.`,
        `${site.comm}/${site.pid} ${site.bracket} takes:`,
        out.lockLine(f.cls, site),
        `{${USAGE_STR[f.oldBit]}} state was registered at:`,
        out.trace(out.usageSite(f.cls, f.oldBit), 1),
        ...usageScenario(out.name(f.cls)),
      );
      out.held(site);
      out.backtrace(site);
      break;
    }
    case 'circular': {
      const { closing, path } = f;
      const prev = closing.dep.from;
      const next = closing.dep.to;
      const site = stepSite(closing)!;
      out.push(...header(p, f.title));
      out.push(...circularHead(`${site.comm}/${site.pid}`, out.lockLine(next, site), out.lockLine(prev, null)));
      // path runs next → … → prev: #k is prev (its edge), down to #1; #0 is next, the acquisition closing the cycle.
      for (let i = path.length - 1; i >= 0; i--) out.push('', `-> #${i + 1} ${out.classLine(path[i]!.dep.to)}:`, out.trace(stepSite(path[i]!), 6));
      out.push('', `-> #0 ${out.classLine(next)}:`, out.trace(site, 6), '', 'other info that might help us debug this:', '');
      const parent = path[path.length - 1]!.dep.from;
      if (parent !== next) out.push(...chainExists(out.name(next), out.name(parent), out.name(prev)));
      out.push(
        ' Possible unsafe locking scenario:',
        '',
        ...circularScenario(`${lockOp((closing.type & 1) === 0)}(${out.name(prev)})`, out.name(parent), out.name(prev), `${lockOp((closing.type & 2) === 0)}(${out.name(next)})`),
        '',
        ' *** DEADLOCK ***',
        '',
      );
      out.held(site);
      out.backtrace(site);
      break;
    }
    case 'bad-irq-dependency': {
      const first = f.path[0]!;
      const prev = first.dep.from;
      const next = first.dep.to;
      const site = stepSite(first)!;
      const cls = f.irqclass;
      out.push(...header(p, f.title, BAD_IRQ_DEPENDENCY_WIDTH));
      out.push(...badIrqDependencyHead({
        who: `${site.comm}/${site.pid} ${site.bracket}`,
        cls,
        nextLine: out.lockLine(next, site),
        prevLine: out.lockLine(prev, null),
        prevClass: out.classLine(prev),
        nextClass: out.classLine(next),
        safeClass: out.classLine(f.safe),
        safeTrace: out.trace(out.usageSite(f.safe, f.safeBit), 1),
        unsafeClass: out.classLine(f.unsafe),
        unsafeTrace: out.trace(out.usageSite(f.unsafe, f.unsafeBit), 1),
      }));
      out.irqScenario(f.safe, f.unsafe, next);
      out.held(site);
      out.push('', `the dependencies between ${cls}-irq-safe lock and the holding lock:`);
      out.path([], prev, null, 'towards');
      out.push('', `the dependencies between the lock to be acquired and ${cls}-irq-unsafe lock:`);
      out.path(f.path.slice(1), next, site, 'away');
      out.backtrace(site);
      break;
    }
    case 'wait-context': {
      const { fact } = f;
      const site = fact.site;
      out.push(...header(p, f.title));
      out.push(
        `${site.comm}/${site.pid} is trying to lock:`,
        out.lockLine(fact.cls, site),
        'other info that might help us debug this:',
        `context-{${fact.currInner}:${fact.currInner}}`,
      );
      out.held(site);
      out.push('stack backtrace:', ` ${site.ctx} on cpu${site.cpu}: ${site.where}: ${site.text}`);
      break;
    }
    case 'bad-unlock': {
      const site = f.site;
      const lock = `&${p.locks[f.lock]!.name}`;
      out.push(...header(p, f.title));
      out.push(`${site.comm}/${site.pid} is trying to release lock (${lock}) at:`, `${site.where}: ${site.text}`, 'but there are no more locks to release!', '', 'other info that might help us debug this:');
      out.held(site);
      out.backtrace(site);
      break;
    }
    case 'freed': {
      const site = f.site;
      const lock = `&${p.locks[f.lock]!.name}`;
      out.push(...header(p, f.title));
      out.push(`${site.comm}/${site.pid} is freeing memory ${lock}, with a lock still held there!`, out.lockLine(f.classes[0]!, site));
      out.held(site);
      out.backtrace(site);
      break;
    }
  }
  return out.text();
}
