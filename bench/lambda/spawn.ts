import { spawn } from 'node:child_process';

export interface Spawned {
  /** From spawn() to the first complete line on stdout, ms. */
  firstLineMs: number;
  lines: unknown[];
}

/**
 * Runs `node args...` with exactly `env` (a Lambda function gets a clean environment, and
 * none of this process's loaders), timing spawn to the first line of output, and collects
 * every JSON line until it exits.
 */
export function runNode(args: string[], env: Record<string, string>, cwd?: string): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstLineMs: number | undefined;
    let buffer = '';
    let errors = '';
    const lines: unknown[] = [];
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
        firstLineMs ??= performance.now() - started;
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        lines.push(line.startsWith('{') ? JSON.parse(line) : line);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || firstLineMs === undefined) {
        reject(new Error(`node ${args.join(' ')} exited with ${code}: ${errors.slice(0, 2000)}`));
      } else {
        resolve({ firstLineMs, lines });
      }
    });
  });
}
