import { build, type BuildOptions, type Plugin } from 'esbuild';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAMBDA_BUNDLE_OPTIONS } from '../../src/cdk/bundle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The Lambda package's files, as the CDK construct lays them out (src/cdk/functions.ts). */
export interface LambdaPackage {
  dir: string;
  /** src/appsync/lambda.ts, minified: the data-source handler. */
  handler: string;
  /** The same handler with the AWS SDK bundled in rather than left to the runtime: a variant. */
  handlerWithSdk: string;
  /** The handler with the AWS SDK replaced by an empty module: the package's own code alone. */
  handlerWithoutSdk: string;
  /** The application's resolvers (examples/agents), bundled the same way: COGNITION_RESOLVERS. */
  resolvers: string;
  /** bench/lambda/warm-entry.ts: the data source with its executor in reach, for the warm figures. */
  warm: string;
  /** bench/lambda/runner.ts: the child process's own code (not minified). */
  runner: string;
  bytes: { handler: number; handlerWithSdk: number; handlerWithoutSdk: number; resolvers: number };
}

// What src/cdk/bundle.ts deploys, written to memory.
const LAMBDA_OPTIONS: BuildOptions = { ...LAMBDA_BUNDLE_OPTIONS, logLevel: 'silent', write: false };

// An empty CommonJS module in place of every @aws-sdk package: named imports of it resolve to
// undefined at run time, which the local secret store and DATABASE_URL never touch.
const NO_SDK: Plugin = {
  name: 'no-aws-sdk',
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\// }, (args) => ({ path: args.path, namespace: 'no-aws-sdk' }));
    b.onLoad({ filter: /.*/, namespace: 'no-aws-sdk' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};

async function bundle(entry: string, options: BuildOptions = {}): Promise<Uint8Array> {
  const result = await build({
    ...LAMBDA_OPTIONS,
    ...options,
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
  });
  const output = result.outputFiles?.[0];
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.contents;
}

export async function buildLambdaPackage(dir: string): Promise<LambdaPackage> {
  const files = {
    handler: ['index.mjs', await bundle('src/appsync/lambda.ts')],
    handlerWithSdk: ['index-sdk.mjs', await bundle('src/appsync/lambda.ts', { external: ['pg-native'] })],
    handlerWithoutSdk: [
      'index-nosdk.mjs',
      await bundle('src/appsync/lambda.ts', { external: ['pg-native'], plugins: [NO_SDK] }),
    ],
    resolvers: ['resolvers.mjs', await bundle('examples/agents/resolvers.ts')],
    warm: ['warm.mjs', await bundle('bench/lambda/warm-entry.ts')],
    runner: ['runner.mjs', await bundle('bench/lambda/runner.ts', { minify: false })],
  } as const;
  for (const [name, contents] of Object.values(files)) await writeFile(join(dir, name), contents);
  return {
    dir,
    handler: join(dir, files.handler[0]),
    handlerWithSdk: join(dir, files.handlerWithSdk[0]),
    handlerWithoutSdk: join(dir, files.handlerWithoutSdk[0]),
    resolvers: join(dir, files.resolvers[0]),
    warm: join(dir, files.warm[0]),
    runner: join(dir, files.runner[0]),
    bytes: {
      handler: files.handler[1].byteLength,
      handlerWithSdk: files.handlerWithSdk[1].byteLength,
      handlerWithoutSdk: files.handlerWithoutSdk[1].byteLength,
      resolvers: files.resolvers[1].byteLength,
    },
  };
}
