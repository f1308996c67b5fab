/** How a command prints: human tables by default, one JSON document with --json. */
export interface Output {
  json: boolean;
  /** Progress and notes; suppressed with --json so stdout stays one JSON document. */
  info(line: string): void;
  result(value: unknown, human?: () => void): void;
  table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    info(line) {
      if (!json) process.stdout.write(`${line}\n`);
      else process.stderr.write(`${line}\n`);
    },
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else if (human) human();
      else process.stdout.write(`${formatValue(value)}\n`);
    },
    table(rows, columns) {
      process.stdout.write(`${formatTable(rows, columns)}\n`);
    },
  };
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function formatTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (cols.length === 0) return rows.length === 0 ? '(no rows)' : '';
  const cells = rows.map((r) => cols.map((c) => formatValue(r[c]).replace(/\n/g, '\\n')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => [...(row[i] ?? '')].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v + ' '.repeat((widths[i] ?? 0) - [...v].length))
      .join('  ')
      .trimEnd();
  const out = [line([...cols]), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}
