/**
 * `kdefer list`: the designs of the catalogue (or of design files) with the
 * verdict each claims, its bounds and what it is about, without checking
 * any.
 */
import { boundsOf, boundsText } from '../../model/dsl/bounds.ts';
import { compactBounds, compileOrExplain, table } from './text.ts';
import { loadCatalogue, loadDesignFile } from './designs.ts';
import { EXIT_AS_EXPECTED } from './errors.ts';
import { print } from './output.ts';

/** The flags of `list`, as the command table (scripts/kdefer.ts) parses them. */
export interface ListFlags {
  readonly json?: boolean;
}

/** The longest description shown in the table; --json has them whole. */
const SUMMARY_WIDTH = 90;

/** A description's first sentence, cut to SUMMARY_WIDTH characters. */
function summary(description: string | undefined): string {
  if (!description) return '';
  const first = /^.*?\.(?=\s|$)/s.exec(description)?.[0] ?? description;
  const flat = first.replace(/\s+/g, ' ').trim();
  return flat.length <= SUMMARY_WIDTH ? flat : `${flat.slice(0, SUMMARY_WIDTH - 1).trimEnd()}…`;
}

export async function runList(files: readonly string[], flags: ListFlags): Promise<number> {
  const sources = files.length === 0 ? [await loadCatalogue()] : [];
  for (const file of files) sources.push(await loadDesignFile(file));
  const entries = sources.flatMap((src) => src.designs.map((d) => {
    const bounds = boundsOf(compileOrExplain(d, src.label), { explorer: 'exhaustive' });
    return { design: d, bounds };
  }));
  if (flags.json) {
    print(JSON.stringify(entries.map(({ design, bounds }) => ({
      design: design.name,
      expected: design.expected ?? null,
      profile: bounds.profile,
      bounds: { cpus: bounds.cpus, preempt: bounds.preempt, irqs: bounds.irqs, ticks: bounds.ticks, loops: bounds.loops },
      boundsText: boundsText(bounds),
      twin: design.twin ?? null,
      description: design.description ?? null,
    })), null, 2));
    return EXIT_AS_EXPECTED;
  }
  const rows = entries.map(({ design, bounds }) => [
    design.name, design.expected ?? '-', bounds.profile, compactBounds(bounds), summary(design.description),
  ]);
  const where = files.length === 0 ? 'the catalogue' : files.join(', ');
  print([
    ...table(['design', 'expected', 'profile', 'bounds', 'description'], rows, new Set()),
    '',
    `${entries.length} design${entries.length === 1 ? '' : 's'} in ${where} (kdefer list --json has the whole descriptions; kdefer check ${files.length === 0 ? '--all' : files.join(' ')} checks them)`,
  ].join('\n'));
  return EXIT_AS_EXPECTED;
}
