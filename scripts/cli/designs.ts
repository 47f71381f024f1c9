/**
 * Where the command line gets its designs: a user's design file (imported,
 * TypeScript compiled by esbuild), or the catalogue; and which design modules
 * `replay` may load at all.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { register as nodeRegister } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Design } from '../../model/index.ts';
import { UsageError } from './errors.ts';
import { catalogueModule, COMPILED, loadablePath, ownDesignFolders } from './package.ts';

/** A named batch of designs: a design file, or the catalogue. */
export interface DesignSource {
  /** As the user named it: the file path given, or `catalogue`. */
  readonly label: string;
  /** Absolute path of the module exporting the designs (recorded in counterexample files). */
  readonly module: string;
  readonly designs: readonly Design[];
}

/** A design by shape: a string `name`, a number of `cpus`, a list of `tasks`. */
function isDesign(x: unknown): x is Design {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  return typeof d.name === 'string' && typeof d.cpus === 'number' && Array.isArray(d.tasks);
}

/** The designs an exported value holds: itself, or the elements of an array of designs. */
function designsIn(value: unknown): readonly Design[] {
  if (isDesign(value)) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every(isDesign)) return value;
  return [];
}

/**
 * Sort exports by where they are declared in the module's source, so designs
 * come out in the order they are written (a module namespace, and esbuild's
 * CommonJS exports, list them alphabetically). Exports not found keep their
 * place after the others.
 */
function inDeclarationOrder(source: string, exports: readonly (readonly [string, unknown])[]): (readonly [string, unknown])[] {
  const at = (name: string): number => {
    const pattern = name === 'default'
      ? /\bexport\s+default\b/
      : new RegExp(`\\bexport\\s+(?:const|let|var|function\\*?|class)\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
    const m = pattern.exec(source);
    return m ? m.index : Number.MAX_SAFE_INTEGER;
  };
  const position = new Map(exports.map(([name]) => [name, at(name)]));
  return [...exports].sort(([a], [b]) => position.get(a)! - position.get(b)!);
}

/** One line out of an error thrown while importing `path`: its message and, if found, where in the file. */
function importProblem(e: unknown, path: string): string {
  if (!(e instanceof Error)) return String(e);
  const lines = e.message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  // esbuild: "Transform failed with 1 error:\n<file>:<line>:<col>: ERROR: <what>"
  if (/^Transform failed with \d+ errors?:$/.test(lines[0] ?? '')) return lines.slice(1).join('; ');
  const first = lines[0] ?? e.name;
  const url = pathToFileURL(path).href;
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes(url) || l.includes(path));
  const position = frame && /:(\d+):(\d+)\)?\s*$/.exec(frame);
  return position ? `${first} (at line ${position[1]}:${position[2]})` : first;
}

/** A file node can import only through a TypeScript loader. */
const TYPESCRIPT_FILE = /\.(?:ts|mts|tsx)$/;

let typescriptLoader: Promise<void> | null = null;

/**
 * Register the TypeScript hooks (./typescript-hooks.ts), once, before the
 * first TypeScript design file is imported. kdefer itself is compiled
 * JavaScript; only a user's design files need compiling, so a run that
 * loads none (list, --all, --version, a .js design) never pays for it.
 * Running from the .ts sources under tsx, tsx is the runner and loads them.
 */
function loadTypeScript(): Promise<void> {
  typescriptLoader ??= (async () => {
    if (!COMPILED) return;
    // Stack traces of a design's errors point into its own .ts source.
    process.setSourceMapsEnabled(true);
    nodeRegister(new URL('./typescript-hooks.js', import.meta.url));
  })();
  return typescriptLoader;
}

/**
 * Import a design file and collect the designs it exports, in source order,
 * each once. A CommonJS-style module (a .ts file outside an ES-module
 * package) exports one object, `default`; its properties are looked into too.
 */
export async function loadDesignFile(file: string): Promise<DesignSource> {
  const path = resolve(file);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new UsageError(`${file}: no such file`, file);
  }
  if (!isFile) throw new UsageError(`${file}: not a file`, file);
  const loaded = loadablePath(path);
  if (loaded.endsWith('.cts')) {
    throw new UsageError(`${file}: a .cts file is CommonJS; kdefer loads design files as ES modules (import/export): name it .ts`, file);
  }
  if (TYPESCRIPT_FILE.test(loaded)) await loadTypeScript();
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(loaded).href)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof Error && e.name === 'DesignError') throw new UsageError(`${file}: ${e.message}`, file);
    throw new UsageError(`${file}: cannot import: ${importProblem(e, loaded)}`, file);
  }
  const commonjs = namespace.default;
  const unwrapped = typeof commonjs === 'object' && commonjs !== null && !Array.isArray(commonjs) && !isDesign(commonjs);
  const exports = inDeclarationOrder(readFileSync(path, 'utf8'), [
    ...Object.entries(namespace),
    ...(unwrapped ? Object.entries(commonjs) : []),
  ]);
  const designs: Design[] = [];
  for (const [, value] of exports) {
    for (const d of designsIn(value)) if (!designs.includes(d)) designs.push(d);
  }
  if (designs.length === 0) {
    const seen = exports.map(([name]) => name).filter((n) => n !== 'default' || !unwrapped);
    throw new UsageError(
      `${file}: exports no design (a design is an object with a string 'name', a number 'cpus' and a 'tasks' list; ` +
        `exports seen: ${seen.join(', ') || 'none'})`,
      file,
    );
  }
  return { label: file, module: path, designs };
}

/** The catalogue (model/designs), imported only when asked for. */
export async function loadCatalogue(): Promise<DesignSource> {
  const { CATALOGUE } = await import('../../model/designs/index.ts');
  return { label: 'catalogue', module: catalogueModule(), designs: CATALOGUE };
}

// ---------------------------------------------------------------- replay's trust

/** The project a command runs in: the nearest folder at or above `cwd` holding a package.json, else `cwd`. */
export function projectRoot(cwd: string = process.cwd()): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/** `path` with symbolic links resolved, as far as it exists. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(real(parent), relative(parent, path));
  }
}

/** Whether `path` is `folder` or lies inside it. */
function inside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The folders replay loads design modules from, and why each is trusted. */
export interface TrustedFolders {
  readonly project: string;
  readonly counterexample: string;
  readonly allowed: readonly string[];
}

/**
 * A counterexample names the design module that replay imports, and
 * importing a module runs its code; a counterexample attached to a bug
 * report is untrusted input. So replay loads a module only from inside the
 * current project (`projectRoot`), the counterexample file's own folder
 * tree, kdefer's own catalogue, or a folder the user allowed with
 * --allow-module-path. Symbolic links are resolved first, so a link cannot
 * lead outside. Throws a UsageError saying how to allow the module.
 */
export function checkModuleTrusted(module: string, cxFile: string, trusted: TrustedFolders): void {
  const target = real(module);
  const folders = [trusted.project, trusted.counterexample, ...trusted.allowed, ...ownDesignFolders()];
  if (folders.some((f) => inside(target, real(f)))) return;
  throw new UsageError(
    `${cxFile}: its design module ${module} is outside this project (${trusted.project}) and the counterexample's folder ` +
      `(${trusted.counterexample}); replay runs the module's code, so it loads none from elsewhere. ` +
      `If you trust it: kdefer replay ${cxFile} --allow-module-path ${dirname(module)}`,
    cxFile,
  );
}
