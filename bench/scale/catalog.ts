import { readFile } from 'node:fs/promises';
import pg from 'pg';

const MB = 1024 * 1024;

export interface CatalogSize {
  databaseMb: number;
  /** Every relation of pg_catalog (tables, their indexes and TOAST), in this database. */
  catalogMb: number;
  /** The largest catalogs, total relation size in MB. */
  largest: { name: string; mb: number; rows: number }[];
  /** Counts that grow with tenants. */
  counts: { relations: number; attributes: number; depends: number; roles: number; memberships: number };
}

export async function catalogSize(client: pg.ClientBase): Promise<CatalogSize> {
  const { rows: db } = await client.query<{ db: string; cat: string }>(
    `select pg_database_size(current_database())::text as db,
            (select sum(pg_total_relation_size(c.oid)) from pg_class c
             where c.relnamespace = 'pg_catalog'::regnamespace and c.relkind = 'r')::text as cat`,
  );
  const { rows: largest } = await client.query<{ name: string; bytes: string; rows: string }>(
    `select c.relname as name, pg_total_relation_size(c.oid)::text as bytes,
            coalesce(s.n_live_tup, 0)::text as rows
     from pg_class c left join pg_stat_sys_tables s on s.relid = c.oid
     where c.relnamespace = 'pg_catalog'::regnamespace and c.relkind = 'r'
     order by pg_total_relation_size(c.oid) desc limit 8`,
  );
  const { rows: counts } = await client.query<Record<keyof CatalogSize['counts'], string>>(
    `select (select count(*) from pg_class)::text as relations,
            (select count(*) from pg_attribute)::text as attributes,
            (select count(*) from pg_depend)::text as depends,
            (select count(*) from pg_authid)::text as roles,
            (select count(*) from pg_auth_members)::text as memberships`,
  );
  const c = counts[0] as Record<keyof CatalogSize['counts'], string>;
  return {
    databaseMb: round(Number(db[0]?.db) / MB),
    catalogMb: round(Number(db[0]?.cat) / MB),
    largest: largest.map((r) => ({ name: r.name, mb: round(Number(r.bytes) / MB), rows: Number(r.rows) })),
    counts: {
      relations: Number(c.relations),
      attributes: Number(c.attributes),
      depends: Number(c.depends),
      roles: Number(c.roles),
      memberships: Number(c.memberships),
    },
  };
}

/** Autovacuum's view of the busiest catalogs: whether it keeps up with the churn of DDL. */
export async function catalogVacuumStats(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{
    relname: string;
    live: string;
    dead: string;
    vacuums: string;
    analyzes: string;
  }>(
    `select relname, n_live_tup::text as live, n_dead_tup::text as dead,
            autovacuum_count::text as vacuums, autoanalyze_count::text as analyzes
     from pg_stat_sys_tables
     where schemaname = 'pg_catalog'
       and relname in ('pg_class', 'pg_attribute', 'pg_depend', 'pg_type', 'pg_constraint', 'pg_index',
                       'pg_auth_members', 'pg_shdepend', 'pg_authid')
     order by n_live_tup desc`,
  );
  return rows
    .map(
      (r) =>
        `${r.relname} ${r.live} live / ${r.dead} dead, ${r.vacuums} autovacuums, ${r.analyzes} autoanalyzes`,
    )
    .join('; ');
}

export interface BackendMemory {
  tenants: number;
  tables: number;
  /** CacheMemoryContext and its children (relcache, catcache, index info), MB. */
  cacheMb: number;
  /** Every memory context of the backend, MB. */
  totalMb: number;
}

/**
 * A fresh backend (superuser) plans one statement per tenant that reads `tables` of that
 * tenant's schema (planning opens each table and its indexes, as a request does), then reads
 * its own memory contexts. Postgres never evicts relcache or catcache entries, so this is what
 * a pooled connection holds after serving that many tenants.
 */
export async function backendMemory(
  url: string,
  schemas: string[],
  tables: string[],
): Promise<BackendMemory> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench memory' });
  await client.connect();
  try {
    for (const schema of schemas) {
      const reads = tables.map(
        (t) => `(select count(*) from ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(t)})`,
      );
      await client.query(`select ${reads.join(', ')}`);
    }
    const { rows } = await client.query<{ cache: string; total: string }>(
      `with cache as (
         select path[level] as id, level from pg_backend_memory_contexts where name = 'CacheMemoryContext'
       )
       select (select sum(m.total_bytes) from pg_backend_memory_contexts m, cache c
               where m.path[c.level] = c.id)::text as cache,
              (select sum(total_bytes) from pg_backend_memory_contexts)::text as total`,
    );
    return {
      tenants: schemas.length,
      tables: tables.length,
      cacheMb: round(Number(rows[0]?.cache) / MB),
      totalMb: round(Number(rows[0]?.total) / MB),
    };
  } finally {
    await client.end();
  }
}

/** Private (unshared) memory of server processes, from /proc: what each backend costs the host. */
export async function backendPrivateMb(client: pg.ClientBase, applicationName: string): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    'select pid from pg_stat_activity where application_name = $1',
    [applicationName],
  );
  const out: number[] = [];
  for (const { pid } of rows) {
    try {
      const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
      out.push(round((kb('Private_Dirty') + kb('Private_Clean')) / 1024));
    } catch {
      // Not on Linux, or not allowed to read another user's process: leave it out.
    }
  }
  return out;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The 20 tables of the saas20 template. */
export const SAAS20_TABLES = [
  'members',
  'teams',
  'team_members',
  'companies',
  'contacts',
  'deals',
  'projects',
  'project_members',
  'milestones',
  'labels',
  'tasks',
  'task_labels',
  'task_dependencies',
  'comments',
  'attachments',
  'time_entries',
  'interactions',
  'activity_log',
  'notifications',
  'webhooks',
];

export interface MemoryFigures {
  /** The request path's table (and its indexes) in every given tenant. */
  oneTable: BackendMemory;
  /** All 20 tables in up to 100 of them: a backend that serves the whole application. */
  allTables: BackendMemory;
}

export async function memoryFigures(url: string, slugs: readonly string[]): Promise<MemoryFigures> {
  const schemas = slugs.map((s) => `tenant_${s}`);
  return {
    oneTable: await backendMemory(url, schemas, ['members']),
    allTables: await backendMemory(url, schemas.slice(0, 100), SAAS20_TABLES),
  };
}
