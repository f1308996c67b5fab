import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchFigure } from './result.js';

// Every benchmark in bench/ (files *.bench.ts exporting `run`), one after the other so they
// do not compete for the two cores; then a summary in markdown and JSON.
const BENCHES = [
  'run-as-user',
  'graphql',
  'data-source',
  'lambda',
  'tenant-creation',
  'sustained-load',
  'tenant-scale',
];

const only = process.argv.slice(2);
const figures: BenchFigure[] = [];
for (const name of BENCHES.filter((b) => only.length === 0 || only.includes(b))) {
  process.stdout.write(`\n== ${name}\n`);
  const mod = (await import(`./${name}.bench.js`)) as { run(): Promise<BenchFigure[]> };
  const results = await mod.run();
  for (const f of results) {
    process.stdout.write(`${formatFigure(f)}\n`);
  }
  figures.push(...results);
}

function formatFigure(f: BenchFigure): string {
  const base = f.baseline ? `  baseline ${f.baseline.name}: ${f.baseline.value} ${f.unit}` : '';
  const ratio =
    f.ratio !== undefined ? `  ratio ${f.ratio}${f.ratioMeaning ? ` (${f.ratioMeaning})` : ''}` : '';
  const target = f.target ? `  target ${f.target}: ${f.met ? 'met' : 'MISSED'}` : '';
  return `${f.name}: ${f.value} ${f.unit}${base}${ratio}${target}`;
}

const dir = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(dir, { recursive: true });
const md = [
  '# pg-cognition benchmarks',
  '',
  `${new Date().toISOString()} · node ${process.version} · ${(await import('node:os')).cpus().length} cores`,
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
  `${JSON.stringify({ at: new Date().toISOString(), figures }, null, 2)}\n`,
);
process.stdout.write(`\nsummary: bench/results/summary.md, bench/results/summary.json\n`);
