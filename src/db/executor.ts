/** Who a statement runs as. */
export interface RunAs {
  /** The user's database role. */
  dbUsername: string;
  /**
   * The schema unqualified names resolve in: the user's tenant schema. It only decides name
   * resolution; which schemas the statement may touch is decided by the role's privileges.
   */
  schema?: string | null;
  /** Exposed to SQL as current_setting('request.jwt.claims'); never decides the tenant. */
  claims?: Record<string, unknown>;
}

export interface Field {
  name: string;
  dataTypeID: number;
}

export interface ExecResult<R = Record<string, unknown>> {
  rows: R[];
  fields: Field[];
  rowCount: number | null;
  command: string;
}

/**
 * Runs one statement with bound parameters as a user. Implementations differ in how they
 * become the user, never in what the statement may see.
 */
export interface Executor {
  readonly mode: 'role-switch' | 'credentials';
  run<R = Record<string, unknown>>(
    as: RunAs,
    sql: string,
    params?: readonly unknown[],
  ): Promise<ExecResult<R>>;
  /**
   * Opens a connection before the first statement needs it, so that a cold start can overlap
   * the login (TCP, TLS, SCRAM) with its other work. Executors without shared connections omit it.
   */
  connect?(): Promise<void>;
  /** Forgets anything cached for this user (a suspended or removed user's connections). */
  forget(dbUsername: string): Promise<void>;
  close(): Promise<void>;
}
