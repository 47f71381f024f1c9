/**
 * lockdep's own report texts (kernel/locking/lockdep.c print_*_bug;
 * shared/lockdep-selftests.md §4.4) for the problems lockdep predicts over
 * every explored execution (model/check/lockdep.ts).
 *
 * What differs from a kernel's splat, by necessity: there are no
 * addresses; a lock line's `at:` names the design instruction where the
 * fact was first seen (in the order of model/check/lockdep.ts, the same
 * whatever the exploration order); a "trace" is that instruction and its
 * context; the held locks carry no `at:` (the state does not remember
 * where a held lock was taken); there are no irq event stamps (they belong
 * to one run); the identity line says this is a model.
 */
import { LOCK_USED, type DepStep, type LockdepFacts, type LockdepFinding, type Site, USAGE_BITS, USAGE_STR, bitOf, ENABLED, HARDIRQ, SOFTIRQ, USED_IN } from '../check/lockdep.ts';
import { header } from './lockdep.ts';

/** Separator widths that are not the header's own (print_bad_irq_dependency prints a fixed row). */
const BAD_IRQ_DEPENDENCY_WIDTH = 53;
const COL = ' '.repeat(31);

class Printer {
  readonly facts: LockdepFacts;
  readonly lines: string[] = [];

  constructor(facts: LockdepFacts) {
    this.facts = facts;
  }

  push(...lines: string[]): void {
    this.lines.push(...lines);
  }

  name(cls: number): string {
    return this.facts.classes.list[cls]!.name;
  }

  /** get_usage_chars(): hardirq write, hardirq read, softirq write, softirq read. */
  usage(cls: number): string {
    let out = '';
    for (const state of [HARDIRQ, SOFTIRQ]) {
      for (const read of [0, 1]) {
        const used = this.facts.has(cls, bitOf(state, USED_IN, read));
        const enabled = this.facts.has(cls, bitOf(state, ENABLED, read));
        out += enabled ? (used ? '?' : '+') : used ? '-' : '.';
      }
    }
    return out;
  }

  /** print_lock_name(): ` (name){usage}-{outer:inner}` without the leading space. */
  classLine(cls: number): string {
    const w = this.facts.classes.list[cls]!.waitInner;
    return `(${this.name(cls)}){${this.usage(cls)}}-{${w}:${w}}`;
  }

  /** print_lock(): the class and the instruction. */
  lockLine(cls: number, site: Site | null): string {
    return `${this.classLine(cls)}${site ? `, at: ${site.where}: ${site.text}` : ''}`;
  }

  trace(site: Site | null, spaces: number): string {
    const pad = ' '.repeat(spaces + 1);
    return site ? `${pad}${site.where}: ${site.text} (${site.ctx}, cpu${site.cpu})` : `${pad}(not seen)`;
  }

  held(site: Site): void {
    const n = site.held.length;
    if (n === 0) {
      this.push(`no locks held by ${site.comm}/${site.pid}.`);
      return;
    }
    this.push(`${n} lock${n === 1 ? '' : 's'} held by ${site.comm}/${site.pid}:`);
    site.held.forEach((h, i) => this.push(` #${i}: ${this.classLine(h.cls)}`));
  }

  backtrace(site: Site): void {
    this.push('', 'stack backtrace:', ` ${site.ctx} on cpu${site.cpu}: ${site.where}: ${site.text}`);
  }

  /** print_irq_lock_scenario() */
  irqScenario(safe: number, unsafe: number, middle: number): void {
    if (middle !== unsafe) this.push('Chain exists of:', `  ${this.name(safe)} --> ${this.name(middle)} --> ${this.name(unsafe)}`, '');
    this.push(
      ' Possible interrupt unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      `  lock(${this.name(unsafe)});`,
      `${COL}local_irq_disable();`,
      `${COL}lock(${this.name(safe)});`,
      `${COL}lock(${this.name(middle)});`,
      '  <Interrupt>',
      `    lock(${this.name(safe)});`,
      '',
      ' *** DEADLOCK ***',
      '',
    );
  }

  /** print_lock_class_header(): a class, every usage bit it has and where it was set. */
  classBlock(cls: number, depth: number): void {
    const pad = ' '.repeat(depth);
    this.push(`${pad}-> ${this.classLine(cls)} {`);
    for (let bit = 0; bit < USAGE_BITS; bit++) {
      if (bit >= LOCK_USED || !this.facts.has(cls, bit)) continue;
      this.push(`${pad}   ${USAGE_STR[bit]} at:`, this.trace(this.facts.usageSite[cls]![bit] ?? null, depth + 5));
    }
    const c = this.facts.classes.list[cls]!;
    const key = c.map ? `the lockdep map of ${c.map.kind} '${this.facts.p.objects[c.map.kind]![c.map.id]!.name}'` : `class '${this.facts.p.locks[c.locks[0]!]!.class}' of the design`;
    this.push(`${pad} }`, `${pad} ... key      at: ${key}`);
  }

  /** print_shortest_lock_dependencies(): the path's classes from the far end down to depth 0, with the site of each edge. */
  dependencies(path: readonly DepStep[], root: number, rootSite: Site | null, direction: 'towards' | 'away'): void {
    const entries = direction === 'towards'
      ? path.map((st) => ({ cls: st.dep.from, site: st.dep.sites[st.type] ?? null }))
      : [...path].reverse().map((st) => ({ cls: st.dep.to, site: st.dep.sites[st.type] ?? null }));
    entries.push({ cls: root, site: rootSite });
    entries.forEach((e, i) => {
      const depth = entries.length - 1 - i;
      this.classBlock(e.cls, depth);
      this.push(`${' '.repeat(depth)} ... acquired at:`, this.trace(e.site, 2), '');
    });
  }
}

const stepSite = (st: DepStep): Site | null => st.dep.sites[st.type] ?? null;
const readOf = (type: number, side: 'prev' | 'next'): boolean => (side === 'prev' ? (type & 1) === 0 : false);

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
        'other info that might help us debug this:',
        ' Possible unsafe locking scenario:',
        '',
        '       CPU0',
        '       ----',
        `  ${fact.prev.read !== 0 ? 'rlock' : 'lock'}(${out.name(fact.prev.cls)});`,
        `  ${fact.next.read !== 0 ? 'rlock' : 'lock'}(${out.name(fact.next.cls)});`,
        '',
        ' *** DEADLOCK ***',
        '',
        ' May be due to missing lock nesting notation',
        '',
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
        out.trace(facts.usageSite[f.cls]![f.oldBit] ?? null, 1),
        '',
        'other info that might help us debug this:',
        ' Possible unsafe locking scenario:',
        '',
        '       CPU0',
        '       ----',
        `  lock(${out.name(f.cls)});`,
        '  <Interrupt>',
        `    lock(${out.name(f.cls)});`,
        '',
        ' *** DEADLOCK ***',
        '',
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
      out.push(
        `${site.comm}/${site.pid} is trying to acquire lock:`,
        out.lockLine(next, site),
        '',
        'but task is already holding lock:',
        out.lockLine(prev, null),
        '',
        'which lock already depends on the new lock.',
        '',
        '',
        'the existing dependency chain (in reverse order) is:',
      );
      // path runs next → … → prev: #k is prev (its edge), down to #1; #0 is next, the acquisition closing the cycle.
      for (let i = path.length - 1; i >= 0; i--) out.push('', `-> #${i + 1} ${out.classLine(path[i]!.dep.to)}:`, out.trace(stepSite(path[i]!), 6));
      out.push('', `-> #0 ${out.classLine(next)}:`, out.trace(site, 6), '', 'other info that might help us debug this:', '');
      const parent = path[path.length - 1]!.dep.from;
      if (parent !== next) out.push('Chain exists of:', `  ${out.name(next)} --> ${out.name(parent)} --> ${out.name(prev)}`, '');
      const prevRead = readOf(closing.type, 'prev');
      const nextRead = (closing.type & 2) === 0;
      out.push(
        ' Possible unsafe locking scenario:',
        '',
        '       CPU0                    CPU1',
        '       ----                    ----',
        `  ${prevRead ? 'rlock' : 'lock'}(${out.name(prev)});`,
        `${COL}lock(${out.name(parent)});`,
        `${COL}lock(${out.name(prev)});`,
        `  ${nextRead ? 'rlock' : 'lock'}(${out.name(next)});`,
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
      out.push(
        `${site.comm}/${site.pid} ${site.bracket} is trying to acquire:`,
        out.lockLine(next, site),
        '',
        'and this task is already holding:',
        out.lockLine(prev, null),
        'which would create a new lock dependency:',
        ` ${out.classLine(prev)} -> ${out.classLine(next)}`,
        '',
        `but this new dependency connects a ${cls}-irq-safe lock:`,
        ` ${out.classLine(f.safe)}`,
        '',
        `... which became ${cls}-irq-safe at:`,
        out.trace(facts.usageSite[f.safe]![f.safeBit] ?? null, 1),
        '',
        `to a ${cls}-irq-unsafe lock:`,
        ` ${out.classLine(f.unsafe)}`,
        '',
        `... which became ${cls}-irq-unsafe at:`,
        '...',
        out.trace(facts.usageSite[f.unsafe]![f.unsafeBit] ?? null, 1),
        '',
        'other info that might help us debug this:',
        '',
      );
      out.irqScenario(f.safe, f.unsafe, next);
      out.held(site);
      out.push('', `the dependencies between ${cls}-irq-safe lock and the holding lock:`);
      out.dependencies([], prev, null, 'towards');
      out.push('', `the dependencies between the lock to be acquired and ${cls}-irq-unsafe lock:`);
      out.dependencies(f.path.slice(1), next, site, 'away');
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
  return `${out.lines.join('\n')}\n`;
}
