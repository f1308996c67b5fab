import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A fingerprint of the schema a deployment applies: the cognition migrations, the application's
 * template migrations (by file name and content) and its tenant roles declaration (`roles.json`). The construct puts it in the
 * migration custom resource's properties, so that CloudFormation calls the migration function
 * again exactly when some SQL changed; the function computes it over the files it was bundled
 * with, to recognise a request that describes other SQL than its own (a rollback).
 *
 * Synchronous, and free of CDK imports: it runs at synth time and inside the Lambda.
 */
export function sqlHash(dirs: { cognition: string; template: string; roles?: string }): string {
  const hash = createHash('sha256');
  for (const [label, dir] of [
    ['cognition', dirs.cognition],
    ['template', dirs.template],
  ] as const) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      const content = readFileSync(join(dir, file));
      // Lengths delimit the parts, so that no two different file sets hash alike.
      hash.update(`${label}/${file}\0${content.length}\0`).update(content);
    }
  }
  if (dirs.roles !== undefined) {
    const content = readFileSync(dirs.roles);
    hash.update(`roles\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}
