import type { Command } from '../command.js';
import { withContext } from '../context.js';

export const migrateCommand: Command = {
  path: ['migrate'],
  summary: 'Apply the cognition schema migrations',
  usage: 'pg-cognition migrate [--json]',
  help: `Applies the versioned SQL migrations of the cognition schema (roles, tables, row-level
security) in order, each in its own transaction, under an advisory lock. Already applied
migrations are skipped, so running it again is safe.`,
  async run(_args, out) {
    return withContext(out, { migrate: false }, async (ctx) => {
      const results = await ctx.cognition.migrate((r) =>
        out.info(
          `${r.status === 'applied' ? 'applied' : 'skipped'}  ${String(r.version).padStart(4, '0')}_${r.name}${r.status === 'applied' ? `  (${r.ms} ms)` : ''}`,
        ),
      );
      const applied = results.filter((r) => r.status === 'applied').length;
      out.result({ applied, skipped: results.length - applied, migrations: results }, () =>
        out.info(`${applied} applied, ${results.length - applied} skipped`),
      );
    });
  },
};
