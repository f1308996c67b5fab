import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleModule, packageEntry, writeAssetDir } from '../../src/cdk/bundle.js';
import { AGENTS, ROOT } from './support.js';

// The AWS SDK is left out of the bundles (the Lambda runtime has it); a copy of an asset under
// node_modules/ finds the project's, as a function finds the runtime's.
const RUNTIME = join(ROOT, 'node_modules/.cache');
mkdirSync(RUNTIME, { recursive: true });
const copies = mkdtempSync(join(RUNTIME, 'pgc-cdk-test-'));
afterAll(() => rmSync(copies, { recursive: true, force: true }));

/** Loads an asset's module in a plain Node process, as the Lambda runtime would, and describes its exports. */
function exportsOf(asset: string, file: string): Record<string, string> {
  const dir = join(copies, relative(join(asset, '..'), asset));
  cpSync(asset, dir, { recursive: true });
  const script =
    'const m = await import(process.argv[1]);' +
    'console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, join(dir, file)], {
    encoding: 'utf8',
    // No DATABASE_URL or AWS settings: loading must not need them.
    env: { PATH: process.env.PATH ?? '' },
  });
  return JSON.parse(out) as Record<string, string>;
}

describe('the Lambda bundles the construct deploys', () => {
  it.each([
    ['cognito/lambda', 'handler'],
    ['appsync/lambda', 'handler'],
    ['cdk/migration-handler', 'handler'],
  ])('%s loads as an ES module in plain Node and exports %s', (entry, name) => {
    const dir = writeAssetDir({ 'index.mjs': bundleModule(packageEntry(entry)) });
    expect(exportsOf(dir, 'index.mjs')).toHaveProperty(name, 'function');
  });

  it('bundles the application’s resolvers into a module of their own', () => {
    const dir = writeAssetDir({ 'resolvers.mjs': bundleModule(join(AGENTS, 'resolvers.ts')) });
    expect(exportsOf(dir, 'resolvers.mjs')).toEqual({ resolvers: 'object' });
  });

  it('keeps the migration function free of CDK, GraphQL, local and CLI code', async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'src/cdk/migration-handler.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      external: ['pg-native', '@aws-sdk/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((i) => /node_modules\/(aws-cdk-lib|constructs|esbuild|graphql)\//.test(i))).toEqual(
      [],
    );
    expect(inputs.filter((i) => /src\/(local|cli)\//.test(i))).toEqual([]);
    expect(inputs.filter((i) => /src\/cdk\//.test(i)).sort()).toEqual([
      'src/cdk/migration-handler.ts',
      'src/cdk/sql-hash.ts',
    ]);
  });
});

describe('the cdk layer', () => {
  it('is imported by nothing else under src/ (it sits at the top, like cli)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (path !== join(ROOT, 'src/cdk')) walk(path);
        } else if (
          entry.name.endsWith('.ts') &&
          /from '(\.\.?\/)+(\.\.\/)*cdk\//.test(readFileSync(path, 'utf8'))
        ) {
          offenders.push(relative(ROOT, path));
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});
