import { describe, expect, it } from 'vitest';
import { refusalReason } from '../../src/db/statement-guard.js';

describe('statement guard (role-switch mode)', () => {
  it.each([
    ["select set_config('role', $1, true), query_to_xml('select 1', true, false, '')", 'set_config'],
    ['select pg_catalog.set_config($1, $2, true)', 'set_config'],
    ['select "set_config"($1, $2, true)', 'set_config'],
    ["select query_to_xml('select real_name from agents', true, false, '')", 'query_to_xml'],
    ["select * from ts_stat('select to_tsvector(real_name) from agents')", 'ts_stat'],
    ["update pg_settings set setting = 'u_x' where name = 'role'", 'pg_settings'],
    ["do $$ begin execute 'set local role u_x'; end $$", 'DO statements'],
    ['  /* hi */ SET ROLE u_x', 'SET statements'],
    ['set local role u_x', 'SET statements'],
    ['reset role', 'RESET statements'],
    ['begin', 'BEGIN statements'],
    ["select 1 from notes where title = '' union select count(*) from pg_settings", 'pg_settings'],
  ])('refuses %s', (sql, reason) => {
    expect(refusalReason(sql)).toBe(reason);
  });

  it.each([
    'select id, title from notes where owner_id = $1',
    "select 'set_config(''role'', ''x'', true)' as text",
    'select $$ do set role $$ as text -- set_config(role)',
    "select current_setting('request.jwt.claims', true)",
    'insert into notes (title) values ($1) returning id',
    'with settings as (select 1 as x) select * from settings',
    "select 'pg_settings' as name",
  ])('allows %s', (sql) => {
    expect(refusalReason(sql)).toBeNull();
  });
});
