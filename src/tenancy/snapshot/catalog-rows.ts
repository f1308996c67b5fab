export interface AclEntry {
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

export interface RelationRow {
  oid: string;
  relname: string;
  relkind: string;
  relpersistence: string;
  reloptions: string[] | null;
  toast_options: string[] | null;
  access_method: string | null;
  relispartition: boolean;
  partition_bound: string | null;
  partition_key: string | null;
  parents: string[];
  relrowsecurity: boolean;
  relforcerowsecurity: boolean;
  relreplident: string;
  typed: boolean;
  relispopulated: boolean;
  view_def: string | null;
  row_type: string;
  has_acl: boolean;
  acl: AclEntry[];
  policy_roles: (string | null)[];
}

export interface ColumnRow {
  rel: string;
  attnum: number;
  attname: string;
  type: string;
  attnotnull: boolean;
  attidentity: string;
  attgenerated: string;
  collation: string | null;
  default_oid: string | null;
  default_expr: string | null;
  default_uses_functions: boolean;
  /** The column's type is (or is made of) a type of the template. */
  template_type: boolean;
  not_null_name: string | null;
  not_null_local: boolean | null;
  not_null_no_inherit: boolean | null;
  parent_default: string | null;
  parent_not_null: boolean;
  has_acl: boolean;
  acl: AclEntry[];
}

export interface SequenceRow {
  oid: string;
  relname: string;
  type: string;
  seqstart: string;
  seqincrement: string;
  seqmax: string;
  seqmin: string;
  seqcache: string;
  seqcycle: boolean;
  owner_rel: string | null;
  owner_col: string | null;
  deptype: string | null;
}

export interface ConstraintRow {
  oid: string;
  conname: string;
  contype: string;
  conrelid: string;
  contypid: string;
  def: string;
  conindid: string;
  conparentid: string;
  conislocal: boolean;
  coninhcount: number;
  convalidated: boolean;
}

export interface IndexRow {
  oid: string;
  relname: string;
  rel: string;
  def: string;
  constraint_oid: string | null;
  parent_index: string | null;
  indisclustered: boolean;
  indisreplident: boolean;
}

export interface FunctionRow {
  oid: string;
  proname: string;
  prokind: string;
  lanname: string;
  args: string;
  identity_args: string;
  result: string | null;
  provolatile: string;
  proisstrict: boolean;
  prosecdef: boolean;
  proleakproof: boolean;
  proparallel: string;
  procost: number;
  prorows: number;
  proretset: boolean;
  support: string | null;
  proconfig: string[] | null;
  prosrc: string;
  probin: string | null;
  sqlbody: string | null;
  /** Set for the constructors Postgres makes with a range type. */
  part_of_type: string | null;
  has_acl: boolean;
  acl: AclEntry[];
}

export interface TypeRow {
  oid: string;
  typname: string;
  typtype: string;
  typrelid: string;
  array_of: string | null;
  labels: string[] | null;
  base_type: string | null;
  collation: string | null;
  default_expr: string | null;
  typnotnull: boolean;
  range_subtype: string | null;
  range_opclass: string | null;
  range_collation: string | null;
  range_canonical: string | null;
  range_diff: string | null;
  range_multirange: string | null;
  multirange_of: string | null;
  has_acl: boolean;
  acl: AclEntry[];
}

export interface TriggerRow {
  oid: string;
  tgname: string;
  rel: string;
  def: string;
  tgenabled: string;
  parent_trigger: string | null;
  tgconstraint: string;
}

export interface PolicyRow {
  oid: string;
  polname: string;
  rel: string;
  polcmd: string;
  polpermissive: boolean;
  roles: (string | null)[];
  using_expr: string | null;
  check_expr: string | null;
}

export interface RuleRow {
  oid: string;
  rulename: string;
  rel: string;
  def: string;
}

export interface StatisticsRow {
  oid: string;
  stxname: string;
  rel: string;
  columns: string;
  kinds: string[];
  targets: number;
}

export interface CommentRow {
  class: string;
  objoid: string;
  objsubid: number;
  description: string;
}

export interface DependRow {
  class: string;
  objid: string;
  objsubid: number;
  ref_class: string;
  ref_objid: string;
  refobjsubid: number;
  deptype: string;
}

export interface UnsupportedRow {
  kind: string;
  name: string;
}

export interface CatalogReads {
  serverVersionNum: number;
  relations: RelationRow[];
  columns: ColumnRow[];
  sequences: SequenceRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  functions: FunctionRow[];
  types: TypeRow[];
  triggers: TriggerRow[];
  policies: PolicyRow[];
  rules: RuleRow[];
  statistics: StatisticsRow[];
  comments: CommentRow[];
  depends: DependRow[];
  unsupported: UnsupportedRow[];
}
