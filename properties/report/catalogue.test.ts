/**
 * Every report on every counterexample of the catalogue: the text trace
 * fits its width and ends with the violation, the Perfetto trace nests
 * properly on every track with one named track per CPU, and lockdep
 * either prints one of its reports or nothing. Iterates over CATALOGUE,
 * so a design added there is covered here.
 */
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../model/index.ts';
import { CATALOGUE } from '../../model/designs/index.ts';
import { lockdepReport } from '../../model/report/lockdep.ts';
import { cpuTid, perfettoTrace } from '../../model/report/perfetto.ts';
import { traceText } from '../../model/report/trace.ts';
import { slicesOf } from './slices.ts';

/** The headers lockdep prints (shared/lockdep-selftests.md §4.4). */
const LOCKDEP_HEADERS = [
  /^WARNING: inconsistent lock state$/,
  /^WARNING: possible recursive locking detected$/,
  /^WARNING: possible circular locking dependency detected$/,
  /^WARNING: (HARDIRQ|SOFTIRQ)(-READ)?-safe -> (HARDIRQ|SOFTIRQ)(-READ)?-unsafe lock order detected$/,
  /^WARNING: possible irq lock inversion dependency detected$/,
  /^WARNING: bad unlock balance detected!$/,
  /^WARNING: lock held when returning to user space!$/,
];

const buggy = CATALOGUE.filter((d) => d.expected !== undefined && d.expected !== 'verified');

describe.each(buggy.map((d) => [d.name, d] as const))('%s', (_name, design) => {
  const verdict = check(design);
  const p = compile(design);

  it('has a counterexample to report', () => {
    expect(verdict.violation).not.toBeNull();
  });

  const v = verdict.violation;
  if (!v) return;

  it('traceText: one column per CPU, at most 160 wide, ending with the violation', () => {
    const text = traceText(p, v.choices);
    const lines = text.split('\n');
    expect(lines[1]!.split(' | ').map((cell) => cell.trim())).toEqual(['step', ...Array.from({ length: p.ncpu }, (_, c) => `cpu${c}`)]);
    expect(Math.max(...lines.slice(1).map((l) => l.length))).toBeLessThanOrEqual(160);
    expect(text).toContain(`\nviolation: ${v.kind} on cpu${v.cpu}`);
    expect(text).toBe(traceText(p, v.choices));
  });

  it('perfettoTrace: balanced B/E on every track, a thread_name per CPU, deterministic', () => {
    const t = perfettoTrace(p, v.choices);
    slicesOf(t);
    const cpuNames = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid < cpuTid(p.ncpu));
    expect(cpuNames.map((e) => [e.tid, e.args!.name])).toEqual(Array.from({ length: p.ncpu }, (_, c) => [cpuTid(c), `cpu${c}`]));
    expect(t.traceEvents.filter((e) => e.cat === 'violation')).toHaveLength(1);
    expect(JSON.stringify(perfettoTrace(p, v.choices))).toBe(JSON.stringify(t));
  });

  it('lockdepReport: one of lockdep\'s reports, or nothing', () => {
    const text = lockdepReport(p, v.choices, v);
    if (text === null) return;
    const lines = text.split('\n');
    expect(LOCKDEP_HEADERS.some((h) => h.test(lines[2]!)), lines[2]).toBe(true);
    expect(lines[1]).toMatch(/^=+$/);
    expect(lines[4]).toBe('-'.repeat(lines[1]!.length));
  });
});
