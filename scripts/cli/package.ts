/**
 * Where kdefer itself lives. The command line runs either compiled
 * (dist/scripts/kdefer.js, as installed: the bin) or from its TypeScript
 * sources under tsx (in a checkout); the catalogue and kdefer's own files
 * are found relative to this file either way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Running the compiled JavaScript in dist/ (not the .ts sources under tsx). */
export const COMPILED = fileURLToPath(import.meta.url).endsWith('.js');

/** The folder holding kdefer's package.json. */
export const PACKAGE_ROOT = COMPILED ? resolve(HERE, '../../..') : resolve(HERE, '../..');

/** kdefer's version, from its package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

const CATALOGUE_SOURCE = join(PACKAGE_ROOT, 'model', 'designs', 'index.ts');
const CATALOGUE_COMPILED = join(PACKAGE_ROOT, 'dist', 'model', 'designs', 'index.js');

/**
 * The catalogue module as counterexample files record it: its TypeScript
 * source where there is one (a checkout, so that the repository's saved
 * files stay valid whichever way the command line runs), else the compiled
 * module (an installed package ships no sources).
 */
export function catalogueModule(): string {
  return existsSync(CATALOGUE_SOURCE) ? CATALOGUE_SOURCE : CATALOGUE_COMPILED;
}

/**
 * The module to load for `path`: a file of kdefer's own model (model/…/x.ts)
 * is loaded from its compiled twin (dist/model/…/x.js) when running
 * compiled, so that the catalogue is one instance with the running model
 * and needs no TypeScript loader. Any other path is itself.
 */
export function loadablePath(path: string): string {
  if (!COMPILED) return path;
  const rel = relative(join(PACKAGE_ROOT, 'model'), path);
  if (rel.startsWith('..') || rel.startsWith(sep) || !rel.endsWith('.ts')) return path;
  const twin = join(PACKAGE_ROOT, 'dist', 'model', `${rel.slice(0, -'.ts'.length)}.js`);
  return existsSync(twin) ? twin : path;
}

/**
 * Folders whose modules are kdefer's own (the catalogue, source and
 * compiled): replay may load them wherever kdefer is installed, as their
 * code is the code already running.
 */
export function ownDesignFolders(): string[] {
  return [join(PACKAGE_ROOT, 'model', 'designs'), join(PACKAGE_ROOT, 'dist', 'model', 'designs')];
}

/**
 * In a checkout running compiled, a warning when dist/ is older than the
 * sources it was built from (`npm run build` rebuilds it), else null. An
 * installed package has no sources and is never stale.
 */
export async function staleBuildWarning(): Promise<string | null> {
  const build = join(PACKAGE_ROOT, 'scripts', 'build.mjs');
  if (!COMPILED || !existsSync(build) || !existsSync(join(PACKAGE_ROOT, 'model'))) return null;
  const { isStale } = (await import(pathToFileURL(build).href)) as { isStale(root: string): boolean };
  return isStale(PACKAGE_ROOT)
    ? `this kdefer runs from ${join(PACKAGE_ROOT, 'dist')}, which is older than its sources: npm run build compiles them`
    : null;
}
