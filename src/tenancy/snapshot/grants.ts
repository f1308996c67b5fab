import pg from 'pg';
import { CognitionError } from '../../errors.js';
import type { AclEntry } from './catalog-rows.js';
import type { PlanContext } from './plan-context.js';
import type { SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;

/** Privilege keywords that may appear in generated GRANT statements. */
const PRIVILEGES = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
  'USAGE',
  'EXECUTE',
  'CREATE',
]);

export function addGrants(ctx: PlanContext): void {
  const { catalog, rels, nodes, owner, add } = ctx;
  // Grouped into as few statements as GRANT allows: objects of one kind that give the same
  // privileges to the same grantee share a statement.
  const grantDeps = new Set<string>();
  const revokes = new Map<string, string[]>(); // object kind -> objects
  const grants = new Map<
    string,
    { head: string; grantee: string | null; grantable: boolean; objects: string[] }
  >();
  const addAcl = (
    kind: string,
    object: string,
    acl: AclEntry[],
    dep: string | undefined,
    revokePublic: boolean,
  ) => {
    if (dep) grantDeps.add(dep);
    if (revokePublic) revokes.set(kind, [...(revokes.get(kind) ?? []), object]);
    for (const { grantee, grantable, privileges } of groupAcl(acl)) {
      const head = `grant ${privileges.join(', ')} on ${kind} `;
      const key = `${head}\u0000${grantee ?? ''}\u0000${grantable}`;
      const group = grants.get(key) ?? { head, grantee, grantable, objects: [] };
      group.objects.push(object);
      grants.set(key, group);
    }
  };
  for (const rel of catalog.relations) {
    if (!rel.has_acl || rel.relkind === 'c') continue;
    addAcl(
      rel.relkind === 'S' ? 'sequence' : 'table',
      ident(rel.relname),
      rel.acl,
      owner.get(`pg_class:${rel.oid}`),
      false,
    );
  }
  for (const f of catalog.functions) {
    if (f.has_acl && !f.part_of_type) {
      addAcl(
        f.prokind === 'p' ? 'procedure' : 'function',
        `${ident(f.proname)}(${f.identity_args})`,
        f.acl,
        `fn:${f.oid}`,
        true,
      );
    }
  }
  for (const t of catalog.types) {
    if (t.has_acl && nodes.has(`type:${t.oid}`)) {
      addAcl(t.typtype === 'd' ? 'domain' : 'type', ident(t.typname), t.acl, `type:${t.oid}`, true);
    }
  }
  const grantSql: SqlChunk[][] = [];
  // Functions and types are usable by PUBLIC unless the template revoked it: start from none.
  for (const [kind, objects] of revokes)
    grantSql.push([`revoke all on ${kind} ${objects.join(', ')} from public`]);
  for (const g of grants.values()) {
    grantSql.push([
      `${g.head}${g.objects.join(', ')} to `,
      { role: g.grantee },
      g.grantable ? ' with grant option' : '',
    ]);
  }
  // Column privileges: one statement per table and grantee.
  const columnGrants = new Map<
    string,
    { table: string; grantee: string | null; grantable: boolean; privs: Map<string, string[]> }
  >();
  for (const col of catalog.columns) {
    const rel = rels.get(col.rel);
    if (!col.has_acl || !rel || rel.relkind === 'c') continue;
    const dep = owner.get(`pg_class:${rel.oid}`);
    if (dep) grantDeps.add(dep);
    for (const { grantee, grantable, privileges } of groupAcl(col.acl)) {
      const key = `${rel.oid}\u0000${grantee ?? ''}\u0000${grantable}`;
      const group = columnGrants.get(key) ?? {
        table: ident(rel.relname),
        grantee,
        grantable,
        privs: new Map(),
      };
      for (const p of privileges) group.privs.set(p, [...(group.privs.get(p) ?? []), ident(col.attname)]);
      columnGrants.set(key, group);
    }
  }
  for (const g of columnGrants.values()) {
    const privs = [...g.privs].map(([p, cols]) => `${p} (${cols.join(', ')})`).join(', ');
    grantSql.push([
      `grant ${privs} on table ${g.table} to `,
      { role: g.grantee },
      g.grantable ? ' with grant option' : '',
    ]);
  }
  if (grantSql.length > 0) add('grants', 'grant', 'privileges', grantSql, grantDeps);
}

function groupAcl(acl: AclEntry[]): { grantee: string | null; grantable: boolean; privileges: string[] }[] {
  const groups = new Map<string, { grantee: string | null; grantable: boolean; privileges: string[] }>();
  for (const entry of acl) {
    if (!PRIVILEGES.has(entry.privilege)) {
      throw new CognitionError(
        'ERR_CLONE_FAILED',
        `unknown privilege ${entry.privilege} in a template grant`,
        {
          safe: false,
        },
      );
    }
    const key = `${entry.grantee ?? ''}\u0000${entry.grantable}`;
    const group = groups.get(key) ?? { grantee: entry.grantee, grantable: entry.grantable, privileges: [] };
    group.privileges.push(entry.privilege.toLowerCase());
    groups.set(key, group);
  }
  return [...groups.values()];
}
