import type pg from 'pg';
import { CognitionError } from '../../errors.js';
import { buildPlan, type Plan } from './build-plan.js';
import { readCatalog } from './catalog.js';
import { templateFingerprint } from './fingerprint.js';
import type { TemplateSnapshot } from './types.js';

/** Reads the template's catalog and returns the statements that recreate it in another schema. */
export async function takeSnapshot(
  client: pg.ClientBase,
  templateSchema = 'tenant_template',
): Promise<TemplateSnapshot> {
  // Read first: a change that lands between the two reads only makes the snapshot look stale.
  const fingerprint = await templateFingerprint(client, templateSchema);
  const catalog = await readCatalog(client, templateSchema);
  if (catalog.unsupported.length > 0) {
    const list = catalog.unsupported.map((u) => `${u.kind} ${u.name}`).join(', ');
    throw new CognitionError(
      'ERR_CLONE_FAILED',
      `the template ${templateSchema} holds objects the clone cannot copy: ${list}`,
      { details: { unsupported: catalog.unsupported } },
    );
  }
  let plain: Plan;
  try {
    plain = buildPlan(catalog, templateSchema, false, true);
  } catch (error) {
    // Foreign keys inside CREATE TABLE order the tables; should that meet a cycle the sort
    // cannot break, they are added after the tables, as with data.
    if (!(error instanceof CognitionError)) throw error;
    plain = buildPlan(catalog, templateSchema, false, false);
  }
  const withData = buildPlan(catalog, templateSchema, true, false);
  return {
    version: 1,
    templateSchema,
    fingerprint,
    serverVersionNum: catalog.serverVersionNum,
    takenAt: new Date().toISOString(),
    statements: plain.statements,
    statementsWithData: withData.statements,
    counts: plain.counts,
    warnings: [...new Set([...plain.warnings, ...withData.warnings])],
  };
}
