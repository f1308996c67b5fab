import { resolve } from 'node:path';
import { stringOption, usageError, type Command } from '../command.js';
import { withContext } from '../context.js';

export const templateMigrateCommand: Command = {
  path: ['template', 'migrate'],
  summary: 'Apply template migrations to tenant_template and every tenant',
  usage: 'pg-cognition template migrate [--dir <folder>] [--concurrency <n>] [--lock-timeout <ms>] [--json]',
  help: `Applies the application's template migrations (NNNN_name.sql files with unqualified
names; default folder ./template, or COGNITION_TEMPLATE_DIR) to tenant_template, then to every
tenant schema in parallel batches. Each tenant records which versions it has, so after a
failure a re-run resumes: it retries the tenants that failed and re-applies nothing that
succeeded. Exits 1 when any tenant failed.`,
  options: { dir: { type: 'string' }, concurrency: { type: 'string' }, 'lock-timeout': { type: 'string' } },
  async run({ values }, out) {
    const dir = resolve(stringOption(values, 'dir') ?? process.env.COGNITION_TEMPLATE_DIR ?? 'template');
    const concurrency = Number(stringOption(values, 'concurrency') ?? 4);
    const lockTimeoutMs = Number(stringOption(values, 'lock-timeout') ?? 5000);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
      throw usageError('--concurrency must be 1-64');
    if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1)
      throw usageError('--lock-timeout must be a positive number of ms');
    return withContext(out, async (ctx) => {
      let lastLine = 0;
      const report = await ctx.cognition.migrateTemplates({
        dir,
        concurrency,
        lockTimeoutMs,
        onProgress: (p) => {
          if (p.phase === 'template') {
            out.info(`template: ${p.version ?? ''} ${p.name ?? ''}`.trim());
            return;
          }
          const now = Date.now();
          if (p.done === p.total || now - lastLine > 1000) {
            lastLine = now;
            out.info(`tenants: ${p.done}/${p.total} done, ${p.failed} failed`);
          }
        },
      });
      out.result(report, () => {
        for (const t of report.template)
          out.info(`${t.status}  ${String(t.version).padStart(4, '0')}_${t.name}`);
        out.info(
          `tenants: ${report.tenants.migrated} migrated, ${report.tenants.upToDate} up to date, ${report.tenants.failed.length} failed (${report.ms} ms)`,
        );
        for (const f of report.tenants.failed)
          out.info(`  failed ${f.slug} at version ${f.version}: ${f.error}`);
      });
      return report.tenants.failed.length > 0 ? 1 : 0;
    });
  },
};
