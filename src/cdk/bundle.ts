import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import type * as esbuild from 'esbuild';
import { CognitionError } from '../errors.js';

/**
 * Lambda code, bundled at synth time with esbuild's JavaScript API: no Docker, no network, and
 * the same bytes for the same sources (so an unchanged app never redeploys its functions).
 * esbuild is loaded on first use, so that importing the construct does not require it.
 */

const requireHere = createRequire(import.meta.url);
/** The package root (this file is src/cdk/bundle.ts, or dist/cdk/bundle.js once built). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// The AWS SDK v3 is part of the Lambda Node.js runtime and is only loaded lazily by the
// handlers; pg-native is node-postgres' optional native add-on.
const EXTERNAL = ['@aws-sdk/*', 'pg-native'];
// Bundled CommonJS dependencies (pg) call require() for Node's built-ins, which an ES module
// does not have.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __pgcCreateRequire } from 'node:module';\n" +
  'const require = __pgcCreateRequire(import.meta.url);';

/**
 * The esbuild options of every Lambda handler: one minified ES module for the Lambda Node.js
 * runtime (the bench bundles with these too, so that it measures what deploys).
 */
export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Error classes and their names reach logs and AppSync's errorType.
  keepNames: true,
  external: EXTERNAL,
  legalComments: 'none',
  banner: { js: ESM_REQUIRE_BANNER },
  // node-postgres asks at import whether it runs on Cloudflare Workers: on Node 20, which has no
  // `navigator`, by constructing a fetch Response, which loads Node's whole bundled undici
  // (15-30 ms of a cold start). Node 21+ answers from navigator.userAgent.
  define: { navigator: '{"userAgent":"Node.js"}' },
} as const satisfies esbuild.BuildOptions;

let loaded: typeof esbuild | undefined;
function esbuildApi(): typeof esbuild {
  if (loaded) return loaded;
  try {
    loaded = requireHere('esbuild') as typeof esbuild;
  } catch (error) {
    throw new CognitionError(
      'ERR_CONFIG',
      'the pg-cognition CDK construct bundles its Lambda functions with esbuild: install it (npm install --save-dev esbuild)',
      { cause: error },
    );
  }
  return loaded;
}

/** A module of this package by its path under src/ without extension (`cognito/lambda`). */
export function packageEntry(path: string): string {
  for (const candidate of [
    join(PACKAGE_ROOT, 'src', `${path}.ts`),
    join(PACKAGE_ROOT, 'dist', `${path}.js`),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new CognitionError('ERR_CONFIG', `pg-cognition is missing its module ${path} (src/ or dist/)`);
}

const bundles = new Map<string, Uint8Array>();

/** One entry point and everything it imports, as one minified ES module for the Lambda runtime. */
export function bundleModule(entry: string): Uint8Array {
  const cached = bundles.get(entry);
  if (cached) return cached;
  const result = build(entry, LAMBDA_BUNDLE_OPTIONS);
  bundles.set(entry, result);
  return result;
}

/**
 * Loads a module (TypeScript or JavaScript) synchronously at synth time: the application's
 * resolvers, to learn which fields need a resolver. A CDK construct is built synchronously, and
 * this works whether or not the CDK app itself runs under a TypeScript loader.
 */
export function loadModuleSync(file: string): Record<string, unknown> {
  const code = Buffer.from(build(file, { format: 'cjs', target: 'node20' })).toString('utf8');
  const wrapper = runInThisContext(
    `(function (exports, require, module, __filename, __dirname) {${code}\n})`,
    { filename: file },
  ) as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  wrapper(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

function build(entry: string, options: esbuild.BuildOptions): Uint8Array {
  let result: esbuild.BuildResult;
  try {
    result = esbuildApi().buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      external: EXTERNAL,
      // Paths in the output are relative to this folder: the same wherever the app runs from.
      absWorkingDir: PACKAGE_ROOT,
      legalComments: 'none',
      logLevel: 'silent',
      write: false,
      ...options,
    });
  } catch (error) {
    const errors = (error as { errors?: esbuild.Message[] }).errors ?? [];
    const details = errors.map((e) => `${e.location?.file ?? entry}: ${e.text}`).join('; ');
    throw new CognitionError('ERR_CONFIG', `could not bundle ${entry}: ${details || String(error)}`, {
      cause: error,
    });
  }
  const output = result.outputFiles?.[0];
  if (!output) throw new CognitionError('ERR_CONFIG', `esbuild produced nothing for ${entry}`);
  return output.contents;
}

/** A file of a Lambda asset folder, by its path in the folder. */
export type AssetFiles = Record<string, Uint8Array | string>;

/** The `.sql` files of a folder, as asset files under `into/`. */
export function sqlFiles(dir: string, into: string): AssetFiles {
  const files: AssetFiles = {};
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    files[`${into}/${name}`] = readFileSync(join(dir, name));
  }
  return files;
}

/**
 * Writes an asset folder under the system's temporary folder, named after its content: a later
 * synth of the same code reuses it, and concurrent synths never see a half-written folder.
 */
export function writeAssetDir(files: AssetFiles): string {
  const hash = createHash('sha256');
  const names = Object.keys(files).sort();
  for (const name of names) {
    const content = Buffer.from(files[name] as Uint8Array | string);
    hash.update(`${name}\0${content.length}\0`).update(content);
  }
  const root = join(tmpdir(), 'pg-cognition-cdk');
  const dir = join(root, hash.digest('hex').slice(0, 32));
  if (existsSync(dir)) return dir;
  mkdirSync(root, { recursive: true });
  const staging = `${dir}.${process.pid}.${Date.now()}`;
  for (const name of names) {
    const path = join(staging, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, files[name] as Uint8Array | string);
  }
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another synth finished the same folder first: its content is the same.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  return dir;
}
