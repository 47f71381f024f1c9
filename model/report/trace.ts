/**
 * The text trace of a schedule: one column per CPU. Each step puts its
 * number on the left and, in the acting CPU's column, what was done and in
 * which context, then that CPU's context stack (bottom first, each context
 * with the locks it holds and the lock it spins or sleeps on) and its
 * irq/bh/preempt state. Another CPU's column is filled on a step only if
 * the step changed it. The violation, if the schedule reaches one, ends it.
 *
 *   step | cpu0                                  | cpu1
 *   -----+---------------------------------------+------------------------
 *      1 | [task mover0] spin_lock(&A)           |
 *        |   task mover0 {&A}                    |
 *        |   irqs on, preempt 1                  |
 */
import type { Program } from '../kernel/program.ts';
import { observeSchedule, type CpuView, type FrameView } from './observe.ts';

/** The widest a trace gets, in columns, before each CPU column is narrowed. */
export const TRACE_WIDTH = 150;
/** Columns of one CPU, at least and at most. */
const MIN_COLUMN = 30;
const MAX_COLUMN = 72;
const STEP_WIDTH = 4;
const SEPARATOR = ' | ';

/** A frame as the trace shows it: `task ethtool {&priv->lock} (spins on &B)`. */
export function frameText(f: FrameView): string {
  const held = f.held.length > 0 ? ` {${f.held.map((h) => (h.read ? `${h.name} (read)` : h.name)).join(', ')}}` : '';
  const wait = f.waiting ? ` (${f.waiting.how} on ${f.waiting.name}${f.waiting.read ? ' for read' : ''})` : '';
  return `${f.name}${held}${wait}`;
}

/** `task ethtool {&priv->lock} > hardirq eth0`, or `idle`. */
export function stackText(c: CpuView): string {
  return c.stack.length > 0 ? c.stack.map(frameText).join(' > ') : 'idle';
}

/** `irqs off, preempt 1, bh 1, in hardirq, softirq pending NET_RX`. */
export function stateText(c: CpuView): string {
  const parts = [c.irqsOff ? 'irqs off' : 'irqs on'];
  if (c.preempt > 0) parts.push(`preempt ${c.preempt}`);
  if (c.bh > 0) parts.push(`bh ${c.bh}`);
  if (c.hardirq > 0) parts.push(c.hardirq > 1 ? `in hardirq (nested ${c.hardirq})` : 'in hardirq');
  if (c.serving) parts.push('serving softirq');
  if (c.pending.length > 0) parts.push(`softirq pending ${c.pending.join('|')}`);
  if (c.ksoftirqdWoken) parts.push(`ksoftirqd/${c.cpu} woken`);
  return parts.join(', ');
}

/** Word-wrap `text` to `width`; continuation lines are indented by `indent` more spaces. */
function wrap(text: string, width: number, indent: number): string[] {
  const lead = /^ */.exec(text)![0];
  const cont = lead + ' '.repeat(indent);
  const lines: string[] = [];
  let line = lead;
  let empty = true;
  for (let word of text.trim().split(/ +/)) {
    const sep = empty ? '' : ' ';
    if (line.length + sep.length + word.length <= width) {
      line += sep + word;
      empty = false;
      continue;
    }
    if (!empty) {
      lines.push(line);
      line = cont;
    }
    // A word longer than the column is cut.
    while (line.length + word.length > width) {
      const room = Math.max(1, width - line.length);
      lines.push(line + word.slice(0, room));
      word = word.slice(room);
      line = cont;
    }
    line += word;
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** The lines a CPU's column shows for its state. */
function cpuLines(c: CpuView, width: number): string[] {
  const lines = [...wrap(`  ${stackText(c)}`, width, 2), ...wrap(`  ${stateText(c)}`, width, 2)];
  for (const t of c.asleep) lines.push(...wrap(`  asleep: ${frameText(t)}`, width, 2));
  return lines;
}

/**
 * The text trace of `choices` replayed on `p`. Deterministic; never throws
 * for a schedule that does not fit the model (it says where it stops).
 */
export function traceText(p: Program, choices: readonly number[]): string {
  const view = observeSchedule(p, choices);
  const ncpu = p.ncpu;
  const width = Math.max(MIN_COLUMN, Math.min(MAX_COLUMN, Math.floor((TRACE_WIDTH - STEP_WIDTH) / ncpu) - SEPARATOR.length));
  const out: string[] = [];
  out.push(`kdefer trace of ${p.design.name}: ${ncpu} CPU${ncpu === 1 ? '' : 's'}, ${view.steps.length} step${view.steps.length === 1 ? '' : 's'}, profile ${p.design.profile ?? 'modern'}, preempt ${p.preempt}`);
  const header = ['step'.padStart(STEP_WIDTH), ...Array.from({ length: ncpu }, (_, c) => `cpu${c}`.padEnd(width))];
  out.push(header.join(SEPARATOR).trimEnd());
  out.push(['-'.repeat(STEP_WIDTH), ...Array.from({ length: ncpu }, () => '-'.repeat(width))].join('-+-'));

  const row = (step: string, columns: readonly (readonly string[])[]): void => {
    const height = Math.max(...columns.map((c) => c.length));
    for (let i = 0; i < height; i++) {
      const cells = columns.map((c) => (c[i] ?? '').padEnd(width));
      out.push([(i === 0 ? step : '').padStart(STEP_WIDTH), ...cells].join(SEPARATOR).trimEnd());
    }
  };

  // Step 0: where every CPU starts.
  const shown = view.initial.map((c) => cpuLines(c, width).join('\n'));
  row('0', view.initial.map((c) => ['start', ...cpuLines(c, width)]));
  for (const st of view.steps) {
    const columns: string[][] = [];
    for (const c of st.cpus) {
      const lines = cpuLines(c, width);
      const key = lines.join('\n');
      if (c.cpu === st.cpu) {
        const what = st.actor ? `[${st.actor}] ${st.action}` : `» ${st.action}`;
        columns.push([...wrap(what, width, 2), ...lines]);
      } else if (key !== shown[c.cpu]) {
        columns.push(lines);
      } else {
        columns.push([]);
      }
      shown[c.cpu] = key;
    }
    row(String(st.index), columns);
  }

  out.push('');
  if (view.mismatch) {
    out.push(...wrap(`the schedule does not replay at step ${view.mismatch.step + 1}: ${view.mismatch.problem}`, TRACE_WIDTH, 2));
  }
  const v = view.violation;
  if (v) {
    out.push(`violation: ${v.kind} on cpu${v.cpu}${v.context ? ` in ${v.context}` : ''}`);
    for (const line of v.message.split('\n')) out.push(...wrap(`  ${line}`, TRACE_WIDTH, 2));
  } else if (view.boundedOut) {
    out.push(...wrap(`bounded out: ${view.boundedOut}`, TRACE_WIDTH, 2));
  } else if (!view.mismatch) {
    out.push('end: no violation');
  }
  return `${out.join('\n')}\n`;
}
