/**
 * The README, run: every code block in it is a file, a command or an
 * output, and this test does what the reader is told to do, in order, in a
 * project of its own (a folder with kdefer linked into node_modules, as an
 * install leaves it), and checks what the reader is told to expect.
 *
 *  - ```ts with a first line `// file: NAME`: the reader saves it as NAME
 *    (a later block of the same name is an edit). At the end every saved
 *    file is type-checked (strict TypeScript, NodeNext modules).
 *  - ```ts with a first line `// from PATH`: an excerpt of this
 *    repository's PATH, checked to be in it verbatim (indentation aside).
 *  - ```sh: commands, run (exit status 0, or the one a `# exit N` comment
 *    names), except those in NOT_RUN, each with the reason and the test
 *    that covers it instead.
 *  - ```text whose first line is `$ COMMAND`: the command is run and its
 *    output must be the block's, line for line; a line `…` stands for any
 *    lines, and in a verdict table the states and ms cells (which depend
 *    on the engine's reductions and the machine) are not compared.
 *  - ```text without `$`: an excerpt of the output of the command before it.
 *  - ```tree: the repository's layout; every path in it must exist.
 *
 * A command naming a path that this repository has and the reader's project
 * has not (model/designs/…) runs in the repository, which it must not change
 * (--no-save); the others run in the reader's project. `npx kdefer` is the compiled command line,
 * `npx vitest` this repository's vitest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const project = mkdtempSync(join(tmpdir(), 'kdefer-readme-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** Commands the README shows that this test does not run, and why. */
const NOT_RUN: readonly (readonly [RegExp, string])[] = [
  [/^npm ci$/, 'the checkout running this test was installed with it'],
  [/^npm run check$/, 'kdefer check --all: properties/catalogue.test.ts checks every catalogue verdict'],
  [/^npm test$/, 'this test is part of it'],
  [/^npm pack$/, 'properties/package.test.ts packs the package'],
  [/^npm install --save-dev \S*kdefer\S*$/, 'properties/package.test.ts installs the packed tarball into a fresh project'],
  [/^npm install --save-dev vitest @fast-check\/vitest$/, 'the project links this repository\'s vitest and @fast-check/vitest, as properties/package.test.ts does'],
  [/^(?:xdg-open|open) \S+\.html$/, 'opens a browser: properties/report/html.test.ts opens such a page in Chromium; here the file is checked to exist'],
];

interface Block {
  readonly lang: string;
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** Every fenced code block, its content out-dented by its fence's indentation. */
function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^ {${indent}}\`\`\`\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: a code block is not closed`);
    out.push({ lang: open[2]!, text: body.join('\n'), line: i + 1 });
    i = j;
  }
  return out;
}

interface Ran {
  readonly command: string;
  readonly status: number | null;
  readonly output: string;
}

/** Run a README command line the way the reader would, in the project or (for the repository's paths) in the repository. */
function run(command: string): Ran {
  // A path the reader's project lacks and the repository has: the command is meant for the clone.
  const paths = command.split(/\s+/).filter((t) => /^[\w.-]+\/[\w./-]+$/.test(t));
  const repo = paths.some((t) => !existsSync(join(project, t)) && existsSync(join(ROOT, t)));
  if (repo && /^npx kdefer check\b/.test(command) && !command.includes('--no-save')) {
    throw new Error(`'${command}' would save into the repository: the README should say --no-save`);
  }
  const cwd = repo ? ROOT : project;
  const kdefer = JSON.stringify(join(ROOT, 'dist', 'scripts', 'kdefer.js'));
  const vitest = JSON.stringify(join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'));
  const shell = command
    .replace(/^npx kdefer\b/, `${JSON.stringify(process.execPath)} ${kdefer}`)
    .replace(/^npx vitest\b/, `${JSON.stringify(process.execPath)} ${vitest}`);
  // The inner vitest must not see this run's own settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  const r = spawnSync('bash', ['-c', shell], { cwd, encoding: 'utf8', timeout: 180_000, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { command, status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Table rows compared cell by cell, the states and ms cells left out. */
function comparable(lines: readonly string[]): string[] {
  let columns: string[] | null = null;
  return lines.map((line) => {
    const cells = line.trim().split(/\s{2,}/);
    // The verdict table, and --grow's table of variants.
    if (/^design\s+(?:profile\s+bounds\s+expected|bound\s+from\s+to)\s+verdict\s+(?:states|schedules)\s+ms\b/.test(line)) {
      columns = cells;
      return cells.join(' | ');
    }
    if (columns === null || line.trim() === '') {
      columns = line.trim() === '' ? null : columns;
      return line.trimEnd();
    }
    // A row has a cell per column, the unnamed OK/MISMATCH last.
    const volatile = new Set(['states', 'schedules', 'ms'].map((c) => columns!.indexOf(c)).filter((i) => i >= 0));
    return cells.map((c, i) => (volatile.has(i) ? '*' : c)).join(' | ');
  });
}

/** Whether `expected` (with `…` lines standing for any lines) is the whole of `actual` (`whole`), or a run of lines in it. */
function matches(expected: readonly string[], actual: readonly string[], whole: boolean): boolean {
  // `…` (or `// …` in code) stands for any lines.
  const elided = (l: string) => /^\s*(?:\/\/\s*)?…(?:\s|$)/.test(l);
  const from = (e: number, a: number): boolean => {
    if (e === expected.length) return !whole || a === actual.length;
    if (elided(expected[e]!)) {
      for (let k = a; k <= actual.length; k++) if (from(e + 1, k)) return true;
      return false;
    }
    return a < actual.length && actual[a] === expected[e] && from(e + 1, a + 1);
  };
  if (whole) return from(0, 0);
  for (let start = 0; start < actual.length; start++) if (from(0, start)) return true;
  return false;
}

/** Lines of an output, trailing spaces and blank lines at the end dropped. */
const linesOf = (text: string): string[] => {
  const lines = text.split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
};

describe('README.md', () => {
  it('starts with the two commands that work on a fresh machine: the catalogue\'s verdict table, and the tests', () => {
    const first = blocks(README)[0]!;
    expect(first.lang).toBe('sh');
    expect(first.text).toMatch(/^npm ci && npm run check\s+#.*verdict table\nnpm ci && npm test\s+#/);
  });

  // Long: it runs everything the README shows (about 30 s on an idle machine, more when it is shared).
  it('every code block does what the README says', { timeout: 600_000 }, () => {
    // The reader's project, with kdefer installed (linked: the same files an install of the tarball unpacks).
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'my-driver', version: '1.0.0', private: true }, null, 2)}\n`);
    // A strict TypeScript setup, as an editor would check the reader's files.
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: [] },
      include: ['*.ts'],
    }, null, 2)}\n`);
    for (const [name, target] of [['kdefer', ROOT], ['vitest', join(ROOT, 'node_modules', 'vitest')], ['@fast-check/vitest', join(ROOT, 'node_modules', '@fast-check', 'vitest')]] as const) {
      const link = join(project, 'node_modules', name);
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(target, link);
    }
    const saved = new Set<string>();
    let last: Ran | null = null;
    const seen = { ts: 0, sh: 0, text: 0, tree: 0 };
    for (const b of blocks(README)) {
      const where = `README.md:${b.line}`;
      if (b.lang === 'ts') {
        seen.ts++;
        const [head, ...rest] = b.text.split('\n');
        const file = /^\/\/ file: (\S+)$/.exec(head!)?.[1];
        const from = /^\/\/ from (\S+)$/.exec(head!)?.[1];
        if (file) {
          writeFileSync(join(project, file), `${b.text}\n`);
          saved.add(file);
        } else if (from) {
          const source = readFileSync(join(ROOT, from), 'utf8').split('\n').map((l) => l.trim());
          const excerpt = rest.map((l) => l.trim());
          expect(matches(excerpt, source, false), `${where}: not an excerpt of ${from}`).toBe(true);
        } else {
          throw new Error(`${where}: a ts block starts with '// file: NAME' (the reader saves it) or '// from PATH' (an excerpt)`);
        }
      } else if (b.lang === 'sh') {
        seen.sh++;
        for (const line of b.text.split('\n')) {
          const [command = '', comment = ''] = line.split(/\s+#\s*/, 2);
          for (const part of command.split(/\s*&&\s*/).map((c) => c.trim()).filter((c) => c !== '')) {
            const skip = NOT_RUN.find(([pattern]) => pattern.test(part));
            if (skip) {
              const html = /\s(\S+\.html)$/.exec(part)?.[1];
              if (html) expect(existsSync(join(project, html)), `${where}: ${html} was written`).toBe(true);
              continue;
            }
            last = run(part);
            const status = Number(/\bexit (\d)\b/.exec(comment)?.[1] ?? 0);
            expect(last.status, `${where}: ${part}\n${last.output}`).toBe(status);
          }
        }
      } else if (b.lang === 'text') {
        seen.text++;
        const lines = b.text.split('\n');
        if (lines[0]!.startsWith('$ ')) {
          last = run(lines[0]!.slice(2));
          const expected = comparable(lines.slice(1).map((l) => l.trimEnd()));
          const actual = comparable(linesOf(last.output));
          expect(matches(expected, actual, true), `${where}: the output of '${last.command}' is not as shown; it is:\n${last.output}`).toBe(true);
        } else {
          expect(last, `${where}: an output excerpt with no command before it`).not.toBeNull();
          const expected = comparable(lines.map((l) => l.trimEnd()));
          expect(matches(expected, comparable(linesOf(last!.output)), false), `${where}: not in the output of '${last!.command}':\n${last!.output}`).toBe(true);
        }
      } else if (b.lang === 'tree') {
        seen.tree++;
        const parents: { indent: number; name: string }[] = [];
        for (const line of b.text.split('\n').filter((l) => l.trim() !== '')) {
          const indent = /^ */.exec(line)![0].length;
          const name = line.trim().split(/\s+/)[0]!;
          while (parents.length > 0 && parents.at(-1)!.indent >= indent) parents.pop();
          const path = join(ROOT, ...parents.map((p) => p.name), name);
          expect(existsSync(path), `${where}: ${path.slice(ROOT.length)} does not exist`).toBe(true);
          parents.push({ indent, name });
        }
      } else {
        throw new Error(`${where}: a code block must be ts, sh, text or tree, not '${b.lang}'`);
      }
    }
    // Each kind of block is there (a test that checks nothing cannot pass).
    expect(seen.ts).toBeGreaterThan(2);
    expect(seen.sh).toBeGreaterThan(2);
    expect(seen.text).toBeGreaterThan(2);
    expect(seen.tree).toBe(1);

    // The files the reader saved, as they are at the end, type-check (strict, as the README's tsconfig says).
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(saved.size).toBeGreaterThan(1);
  });
});
