import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchFigure } from './result.js';

// Every benchmark in bench/ (files *.bench.ts exporting `run`), one after the other so they
// do not compete for the two cores; then a summary in markdown and JSON. Named benches
// (`npm run bench -- lambda graphql`) run alone and replace only their own figures in the
// summary, which says when each bench last ran.
const BENCHES = [
  'run-as-user',
  'graphql',
  'data-source',
  'lambda',
  'tenant-creation',
  'sustained-load',
  'tenant-scale',
];

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = only.filter((b) => !BENCHES.includes(b));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; the benches: ${BENCHES.join(', ')}\n`);
  process.exit(2);
}
const dir = fileURLToPath(new URL('./results/', import.meta.url));
const earlier = only.length > 0 ? await previousSummary() : { figures: [], ranAt: {} };
const ranAt: Record<string, string> = { ...earlier.ranAt };
const fresh: BenchFigure[] = [];
for (const name of BENCHES.filter((b) => only.length === 0 || only.includes(b))) {
  process.stdout.write(`\n== ${name}\n`);
  const mod = (await import(`./${name}.bench.js`)) as { run(): Promise<BenchFigure[]> };
  const results = await mod.run();
  for (const f of results) {
    process.stdout.write(`${formatFigure(f)}\n`);
  }
  fresh.push(...results);
  ranAt[name] = new Date().toISOString();
}
const ran = new Set(fresh.map((f) => f.bench));
const figures = [...earlier.figures.filter((f) => !ran.has(f.bench)), ...fresh].sort(
  (a, b) => BENCHES.indexOf(a.bench) - BENCHES.indexOf(b.bench),
);

async function previousSummary(): Promise<{ figures: BenchFigure[]; ranAt: Record<string, string> }> {
  try {
    const json = JSON.parse(await readFile(`${dir}summary.json`, 'utf8')) as {
      figures?: BenchFigure[];
      ranAt?: Record<string, string>;
    };
    return { figures: json.figures ?? [], ranAt: json.ranAt ?? {} };
  } catch {
    return { figures: [], ranAt: {} };
  }
}

function formatFigure(f: BenchFigure): string {
  const base = f.baseline ? `  baseline ${f.baseline.name}: ${f.baseline.value} ${f.unit}` : '';
  const ratio =
    f.ratio !== undefined ? `  ratio ${f.ratio}${f.ratioMeaning ? ` (${f.ratioMeaning})` : ''}` : '';
  const target = f.target ? `  target ${f.target}: ${f.met ? 'met' : 'MISSED'}` : '';
  return `${f.name}: ${f.value} ${f.unit}${base}${ratio}${target}`;
}

await mkdir(dir, { recursive: true });
const md = [
  '# pg-cognition benchmarks',
  '',
  `${new Date().toISOString()} · node ${process.version} · ${(await import('node:os')).cpus().length} cores`,
  '',
  `Last run: ${BENCHES.filter((b) => ranAt[b])
    .map((b) => `${b} ${ranAt[b]}`)
    .join(' · ')}`,
  '',
  '| bench | figure | value | baseline (same run) | ratio | target |',
  '|---|---|---|---|---|---|',
  ...figures.map(
    (f) =>
      `| ${f.bench} | ${f.name} | ${f.value} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${f.baseline.value} ${f.unit}` : ''} | ${f.ratio ?? ''}${f.ratioMeaning ? ` (${f.ratioMeaning})` : ''} | ${f.target ? `${f.target} ${f.met ? '✓' : '✗'}` : ''} |`,
  ),
  '',
  ...figures.filter((f) => f.notes).map((f) => `- ${f.name}: ${f.notes}`),
].join('\n');
await writeFile(`${dir}summary.md`, `${md}\n`);
await writeFile(
  `${dir}summary.json`,
  `${JSON.stringify({ at: new Date().toISOString(), ranAt, figures }, null, 2)}\n`,
);
process.stdout.write(`\nsummary: bench/results/summary.md, bench/results/summary.json\n`);
