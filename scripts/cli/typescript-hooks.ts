/**
 * Module hooks (node:module register) that load a user's TypeScript design
 * files: each .ts, .mts or .tsx file is compiled by esbuild (types removed,
 * nothing else changed) and loaded as an ES module, whatever the package
 * around it says.
 *
 * Why not tsx: tsx loads a .ts file outside a "type": "module" package (a
 * project made by `npm init`) as CommonJS, and then loads kdefer, an
 * ES-module package, a second time as a separate copy of the model; and a
 * design importing a file that imports a third one fails there. Loaded as ES
 * modules, a design's `import … from 'kdefer'` is the very module the
 * command line runs, and its own imports follow TypeScript's conventions:
 *
 *   import { nic } from './nic.ts';    // the file itself
 *   import { nic } from './nic.js';    // the .ts file, as tsc writes it
 *   import { nic } from './nic';       // ./nic.ts, ./nic.tsx, ./nic/index.ts
 *
 * Packages resolve as node resolves them. Not supported: tsconfig `paths`
 * aliases, and design files written as CommonJS (require, module.exports).
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** TypeScript sources these hooks compile. */
const TYPESCRIPT = /\.(?:ts|mts|tsx)$/;

const isTypeScript = (url: string): boolean => url.startsWith('file:') && TYPESCRIPT.test(new URL(url).pathname);

interface Resolved {
  readonly url: string;
  readonly format?: string | null;
  readonly shortCircuit?: boolean;
}
interface Loaded {
  readonly format: string;
  readonly source?: string | ArrayBuffer | Uint8Array;
  readonly shortCircuit?: boolean;
}
interface ResolveContext {
  readonly parentURL?: string;
}

/** The files a relative import from TypeScript may mean, in TypeScript's order. */
function candidates(specifier: string): string[] {
  if (/\.(?:js|mjs|jsx)$/.test(specifier)) return [specifier.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts').replace(/\.jsx$/, '.tsx')];
  if (/\.[cm]?[jt]sx?$/.test(specifier)) return [];
  return [`${specifier}.ts`, `${specifier}.tsx`, `${specifier}/index.ts`, `${specifier}/index.tsx`];
}

const isFile = (url: URL): boolean => existsSync(url) && statSync(url).isFile();

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: (specifier: string, context: ResolveContext) => Promise<Resolved>,
): Promise<Resolved> {
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  const fromTypeScript = context.parentURL !== undefined && isTypeScript(context.parentURL);
  if (relative && fromTypeScript) {
    // The file itself first (a .ts import, a .js file that exists), then what TypeScript means by it.
    const exact = new URL(specifier, context.parentURL);
    if (!isFile(exact)) {
      for (const candidate of candidates(specifier)) {
        const url = new URL(candidate, context.parentURL);
        if (isFile(url)) return { url: url.href, format: 'module', shortCircuit: true };
      }
    }
  }
  const resolved = await nextResolve(specifier, context);
  return isTypeScript(resolved.url) ? { ...resolved, format: 'module' } : resolved;
}

export async function load(
  url: string,
  context: object,
  nextLoad: (url: string, context: object) => Promise<Loaded>,
): Promise<Loaded> {
  if (!isTypeScript(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { transform } = await import('esbuild');
  // Errors come out as esbuild reports them: "Transform failed with 1 error:\n<file>:<line>:<col>: ERROR: <what>".
  const compiled = await transform(await readFile(path, 'utf8'), {
    loader: path.endsWith('.tsx') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: path,
    sourcemap: 'inline',
  });
  return { format: 'module', source: compiled.code, shortCircuit: true };
}

