/**
 * npm run bench:tcp: the TCP designs at 3 segments (model/designs/tcp/),
 * checked exhaustively with their expected verdicts and timed, plus the
 * shortest-schedule check of the saved counterexamples that npm test skips
 * over its state budget (the 3-segment race: a BFS over ≈1M states).
 * Prints a table (states, ms, states/s); exits 1 if a verdict is not the
 * expected one or a saved counterexample is not a shortest schedule.
 *
 *   npx tsx scripts/bench-tcp.ts [--filter substring]
 *
 * npm test checks the same verdicts (properties/catalogue.test.ts,
 * properties/designs/tcp.test.ts); this is where their cost is watched.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CATALOGUE } from '../model/designs/index.ts';
import { MILLER_PROPOSAL, MILLER_READER_APART, millerDesign } from '../model/designs/tcp/miller.ts';
import { MODERN, modernDesign } from '../model/designs/tcp/modern.ts';
import { PREQUEUE_4X, prequeueDesign } from '../model/designs/tcp/prequeue.ts';
import { check, compile, parseCounterexample, shortestViolation, type Design } from '../model/index.ts';

const { values } = parseArgs({ options: { filter: { type: 'string' } } });

/** Every TCP design at 3 segments, buggy and fixed: the catalogue's, and the 2-segment pairs grown to 3. */
const at3 = (name: string) => `${name} (3 segments)`;
const DESIGNS: readonly Design[] = [
  ...CATALOGUE.filter((d) => d.name.startsWith('miller-tcp-reader-clears-ucopy')),
  millerDesign({ ...MILLER_PROPOSAL, name: at3(MILLER_PROPOSAL.name), packets: 3, backlog: 3 }),
  millerDesign({ ...MILLER_PROPOSAL, name: at3('miller-tcp-lock_sock-spin_lock'), packets: 3, backlog: 3, lockSockTake: 'spin_lock', expected: 'deadlock' }),
  millerDesign({ ...MILLER_READER_APART, name: at3('miller-tcp-reader-sleep_on'), packets: 3, backlog: 3, readerSleep: 'sleep_on', expected: 'hung-task' }),
  modernDesign({ ...MODERN, name: at3(MODERN.name), packets: 3, backlog: 3 }),
  modernDesign({ ...MODERN, name: at3('tcp-release_sock-clears-owned-first'), packets: 3, backlog: 3, releaseSock: 'release-then-drain', expected: 'ordering' }),
  prequeueDesign({ ...PREQUEUE_4X, name: at3(PREQUEUE_4X.name), packets: 3, backlog: 3 }),
  prequeueDesign({ ...PREQUEUE_4X, name: at3('tcp-prequeue-after-release_sock'), packets: 3, backlog: 3, prequeue: 'after-release_sock', expected: 'ordering' }),
].filter((d) => !values.filter || d.name.includes(values.filter));

const rows: string[][] = [];
let failed = 0;
for (const d of DESIGNS) {
  // The verdict without minimising: the bench measures the search; the shortest schedules are checked below.
  const v = check(d, { minimize: false });
  const got = v.violation ? v.violation.kind : v.status;
  const ok = got === d.expected;
  if (!ok) failed++;
  const rate = v.stats.ms > 0 ? String(Math.round(v.stats.states / (v.stats.ms / 1000))) : '-';
  rows.push([d.name, String(v.bounds.irqs.eth0), d.expected ?? '-', got, String(v.stats.states), String(v.stats.ms), rate, ok ? 'OK' : `MISMATCH${v.boundedOut ? `: ${v.boundedOut}` : ''}`]);
}

// The saved counterexamples whose shortness npm test cannot afford to check (properties/counterexamples.test.ts SHORTEST_BUDGET).
const dir = fileURLToPath(new URL('../counterexamples/', import.meta.url));
const shortRows: string[][] = [];
for (const file of readdirSync(dir).filter((f) => f.startsWith('miller-tcp-reader-clears-ucopy') && f.endsWith('.json'))) {
  if (values.filter && !file.includes(values.filter)) continue;
  const cx = parseCounterexample(readFileSync(`${dir}${file}`, 'utf8'), file);
  const design = CATALOGUE.find((d) => d.name === cx.design.name)!;
  const t0 = performance.now();
  const bfs = shortestViolation(compile(design), { kind: cx.violation.kind });
  const ms = Math.round(performance.now() - t0);
  const ok = bfs.violation?.kind === cx.violation.kind && bfs.violation.choices.length === cx.schedule.length;
  if (!ok) failed++;
  shortRows.push([file, String(cx.schedule.length), String(bfs.violation?.choices.length ?? '-'), String(bfs.stats.states), String(ms), ok ? 'OK' : 'NOT SHORTEST']);
}

function print(header: readonly string[], body: readonly (readonly string[])[], right: ReadonlySet<number>): void {
  const width = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  console.log(line(header));
  for (const r of body) console.log(line(r));
}

console.log(`TCP designs at 3 segments, exhaustive, node ${process.version}`);
print(['design', 'segments', 'expected', 'verdict', 'states', 'ms', 'states/s', ''], rows, new Set([1, 4, 5, 6]));
if (shortRows.length > 0) {
  console.log('\nsaved counterexamples too big for npm test\'s shortest-schedule check:');
  print(['file', 'steps', 'BFS steps', 'BFS states', 'ms', ''], shortRows, new Set([1, 2, 3, 4]));
}
process.exitCode = failed === 0 ? 0 : 1;
