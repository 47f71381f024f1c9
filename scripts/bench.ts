/**
 * npm run bench: exhaustive-search throughput on every catalogue design,
 * measured in one run on this machine (states, transitions, ms, states/s,
 * and the memory of the visited set). Speed targets live here, never in
 * npm test. The comparison against SPIN on the same designs needs the
 * Promela export, which is not written yet; this prints kdefer's side only.
 *
 *   npm run bench [-- --repeat N] [-- --filter substring]
 *   npm run bench -- --random [...]   random search: scripts/bench-random.ts
 */
import { parseArgs } from 'node:util';
import { CATALOGUE } from '../model/designs/index.ts';
import { compile } from '../model/dsl/compile.ts';
import { exhaustive } from '../model/explore/exhaustive.ts';

if (process.argv.slice(2).includes('--random')) {
  await import('./bench-random.ts');
} else {
  benchExhaustive();
}

function benchExhaustive(): void {
  const { values } = parseArgs({ options: { repeat: { type: 'string' }, filter: { type: 'string' } } });
  const repeat = Math.max(1, Number(values.repeat ?? 3) | 0);
  const designs = CATALOGUE.filter((d) => !values.filter || d.name.includes(values.filter));

  const rows: string[][] = [];
  let totalStates = 0;
  let totalMs = 0;
  for (const d of designs) {
    const p = compile(d);
    let best = Infinity;
    let r = exhaustive(p);
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      r = exhaustive(p);
      best = Math.min(best, performance.now() - t0);
    }
    totalStates += r.stats.states;
    totalMs += best;
    rows.push([d.name, r.status, String(r.stats.states), String(r.stats.transitions), best.toFixed(1), best > 0 ? String(Math.round(r.stats.states / (best / 1000))) : '-']);
  }
  const header = ['design', 'verdict', 'states', 'transitions', 'ms (best)', 'states/s'];
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ');
  console.log(`kdefer exhaustive search, best of ${repeat} runs per design, node ${process.version}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(`\n${designs.length} designs, ${totalStates} states in ${totalMs.toFixed(0)} ms: ${Math.round(totalStates / (totalMs / 1000))} states/s overall`);
  console.log('SPIN comparison: not yet available (needs the Promela export of a design).');
}
