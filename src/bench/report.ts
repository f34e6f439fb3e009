import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExactScanFigures } from './exactScan.js';
import type { HttpFigures } from './httpLoad.js';
import type { IndexScalingPoint } from './indexScaling.js';
import type { IngestThroughput } from './ingestThroughput.js';
import type { MachineDescription } from './machine.js';
import type { PgdTime } from './pgdTime.js';
import type { PhonePhotoFigures } from './phonePhotos.js';
import type { PostgresFigures } from './postgresBench.js';
import type { QueryLatency } from './queryLatency.js';

export type BenchMode = 'quick' | 'default' | 'full';

export interface BenchReport {
  readonly schemaVersion: 1;
  readonly mode: BenchMode;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineDescription & { readonly loadAverageAtEnd: number };
  readonly corpus: { readonly dir: string; readonly images: number };
  readonly ingest: IngestThroughput;
  readonly query: QueryLatency;
  /** Phone-size photos (12 MP JPEGs made at run time) against the corpus photos of the same run. */
  readonly phone: PhonePhotoFigures;
  readonly http: readonly HttpFigures[];
  readonly pgd: PgdTime;
  readonly indexScaling: { readonly distribution: string; readonly points: readonly IndexScalingPoint[] };
  readonly exactScan: ExactScanFigures;
  /** The PostgreSQL backend in the same run (issue #14). */
  readonly postgres: PostgresFigures;
  /** Sizes or steps left out, and why (e.g. not enough memory for 10^6 vectors). */
  readonly skipped: readonly string[];
}

const ms = (v: number) => (v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const met = (ok: boolean) => (ok ? 'yes' : '**no**');
const power = (n: number) => (Number.isInteger(Math.log10(n)) ? `10^${Math.log10(n)}` : String(n));

/** The markdown summary: machine, headline table, then the detail tables. */
export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const busy = Math.max(m.loadAverageAtStart, m.loadAverageAtEnd) > m.cores;
  const lines = [
    `# Benchmarks (${r.mode})`,
    '',
    `${r.startedAt} · ${m.cores} cores, ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB · ${m.os} · Node ${m.node} · ` +
      `model ${m.model.file} sha256 \`${m.model.sha256.slice(0, 16)}…\` · ${r.durationSeconds.toFixed(0)} s`,
    '',
    busy
      ? `**Measured on a busy machine**: 1-minute load average ${m.loadAverageAtStart.toFixed(1)} at the start, ${m.loadAverageAtEnd.toFixed(1)} at the end, on ${m.cores} cores.`
      : `Load average ${m.loadAverageAtStart.toFixed(1)} at the start, ${m.loadAverageAtEnd.toFixed(1)} at the end, on ${m.cores} cores.`,
    '',
    'Medians over repeated runs; latencies are p50/p99 over every timed query.',
    '',
    '| Measurement | Figure | Target | Met |',
    '|---|---|---|---|',
  ];
  const i = r.ingest;
  lines.push(
    `| Ingest vs raw onnxruntime (${i.images} images, batch ${i.batchSize}, cpu) | ${i.ingestImagesPerSecond.median.toFixed(1)} vs ${i.rawImagesPerSecond.median.toFixed(1)} images/s = **${i.ratio.toFixed(2)}** | ≥ ${i.target} | ${met(i.meetsTarget)} |`,
  );
  lines.push(
    `| Decode path per image (decode, model input, thumbnail) | ${ms(i.decodeMsPerImage.median)} ms; expected ratio when decoding shares the ${m.cores} cores with inference: ${i.sharedCoresCeiling.toFixed(2)} | — | — |`,
  );
  const q = r.query;
  for (const [label, kind] of [['by id', q.byId], ['by upload', q.byUpload]] as const) {
    lines.push(
      `| Query ${label} (${q.corpus} images, scope ${q.scope}) p50 / p99 | ${ms(kind.total.p50Ms)} / ${ms(kind.total.p99Ms)} ms; certificate step ${ms(kind.certificate.p50Ms)} ms = **${kind.certificateOverheadPct.toFixed(1)} %** | overhead ≤ ${q.overheadTargetPct} % | ${met(kind.certificateOverheadPct <= q.overheadTargetPct)} |`,
    );
  }
  const f = r.phone;
  lines.push(
    `| Phone-size photos (${f.images} × ${f.width}×${f.height} JPEG): ingest vs corpus photos | ${f.ingestImagesPerSecond.toFixed(1)} vs ${f.corpusIngestImagesPerSecond.toFixed(1)} images/s = **${f.ingestRatio.toFixed(2)}** | ≥ ${f.ingestRatioTarget} | ${met(f.ingestRatio >= f.ingestRatioTarget)} |`,
    `| Phone-size photos: upload query p50 vs corpus photos | ${ms(f.uploadP50Ms)} vs ${ms(f.corpusUploadP50Ms)} ms = **${f.uploadRatio.toFixed(2)}×** | ≤ ${f.uploadRatioTarget}× | ${met(f.uploadRatio <= f.uploadRatioTarget)} |`,
  );
  for (const p of r.indexScaling.points) {
    const c = p.chosen;
    lines.push(
      `| HNSW at ${power(p.corpus)} (dim ${p.dim}) | ${c ? `ef ${c.ef}: p50 ${ms(c.p50Ms)} ms, p99 ${ms(c.p99Ms)} ms, recall@10 ${c.recallAt10.toFixed(3)}` : 'recall@10 < 0.99 at every ef'}; build ${p.buildSeconds.toFixed(1)} s, ${mib(p.indexRssBytes)} | p50 ≤ 5 ms, recall ≥ 0.99 | ${met(p.meetsTargets)} |`,
    );
  }
  const e = r.exactScan;
  lines.push(`| Exact scan (certificates, scope exact) | ≤ ${e.budgetMs} ms p50 up to ~${e.cheapUpTo.toLocaleString('en')} vectors | (server limit ${e.serverExactScanLimit.toLocaleString('en')}) | — |`);
  lines.push(`| PGD attack, ${r.pgd.steps} steps, ${r.pgd.threads} thread | ${r.pgd.seconds.median.toFixed(2)} s (${r.pgd.msPerStep.toFixed(0)} ms/step) | ≤ ${r.pgd.targetSeconds} s | ${met(r.pgd.meetsTarget)} |`);
  const pgFigures = r.postgres;
  lines.push(
    `| PostgreSQL ingest vs folder (${pgFigures.ingestImages} images) | ${pgFigures.ingestImagesPerSecond.toFixed(1)} vs ${pgFigures.embeddedIngestImagesPerSecond.toFixed(1)} images/s | — | — |`,
    `| PostgreSQL query by id (${pgFigures.query.corpus} images, scope ${pgFigures.query.scope}) p50 / p99 | ${ms(pgFigures.query.byId.total.p50Ms)} / ${ms(pgFigures.query.byId.total.p99Ms)} ms (folder: ${ms(q.byId.total.p50Ms)} / ${ms(q.byId.total.p99Ms)} ms) | — | — |`,
  );
  for (const p of pgFigures.index) {
    const c = p.chosen;
    lines.push(
      `| pgvector HNSW at ${power(p.corpus)} (dim ${p.dim}) | ${c ? `ef_search ${c.ef}: p50 ${ms(c.p50Ms)} ms, p99 ${ms(c.p99Ms)} ms, recall@10 ${c.recallAt10.toFixed(3)}` : 'recall@10 < 0.99 at every ef_search'}; load ${p.insertSeconds.toFixed(1)} s, build ${p.buildSeconds.toFixed(1)} s | — | — |`,
    );
  }
  for (const h of r.http) {
    lines.push(
      `| HTTP ${h.name}, ${h.connections} connections, ${h.durationSeconds} s | ${h.requestsPerSecond.toFixed(0)} req/s, p50 ${h.latencyP50Ms} ms, p99 ${h.latencyP99Ms} ms | 0 errors, 0 non-2xx | ${met(h.errors === 0 && h.non2xx === 0)} (${h.errors} / ${h.non2xx}) |`,
    );
  }

  lines.push('', '## HNSW scaling', '', `Data: ${r.indexScaling.distribution}. M ${r.indexScaling.points[0]?.m}, efConstruction ${r.indexScaling.points[0]?.efConstruction}.`, '');
  lines.push('| Corpus | Build | Inserts/s | RSS growth | ef | p50 ms | p99 ms | recall@10 |', '|---|---|---|---|---|---|---|---|');
  for (const p of r.indexScaling.points) {
    for (const point of p.efs) {
      lines.push(
        `| ${power(p.corpus)} | ${p.buildSeconds.toFixed(1)} s | ${p.insertsPerSecond.toFixed(0)} | ${mib(p.indexRssBytes)} | ${point.ef}${point === p.chosen ? ' (chosen)' : ''} | ${ms(point.p50Ms)} | ${ms(point.p99Ms)} | ${point.recallAt10.toFixed(4)} |`,
      );
    }
  }
  lines.push('', '## PostgreSQL + pgvector', '', `${pgFigures.server}. A native PostgreSQL is faster: these figures show what the backend costs here, not what a production server does.`, '');
  lines.push('| Corpus | Load | Build | ef_search | p50 ms | p99 ms | recall@10 |', '|---|---|---|---|---|---|---|');
  for (const p of pgFigures.index) {
    for (const point of p.efs) {
      lines.push(
        `| ${power(p.corpus)} | ${p.insertSeconds.toFixed(1)} s | ${p.buildSeconds.toFixed(1)} s | ${point.ef}${point === p.chosen ? ' (chosen)' : ''} | ${ms(point.p50Ms)} | ${ms(point.p99Ms)} | ${point.recallAt10.toFixed(4)} |`,
      );
    }
  }
  lines.push('', '## Exact scan (distances to every vector + top 30 + D)', '', '| Corpus | p50 ms | p99 ms |', '|---|---|---|');
  for (const p of e.points) lines.push(`| ${power(p.corpus)} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} |`);
  lines.push('', '## Query latency detail (ms)', '', '| Query | total p50 / p99 | without certificate p50 / p99 | certificate step p50 / p99 |', '|---|---|---|---|');
  for (const [label, kind] of [['by id', q.byId], ['by upload', q.byUpload]] as const) {
    lines.push(
      `| ${label} (${kind.queries} queries) | ${ms(kind.total.p50Ms)} / ${ms(kind.total.p99Ms)} | ${ms(kind.withoutCertificate.p50Ms)} / ${ms(kind.withoutCertificate.p99Ms)} | ${ms(kind.certificate.p50Ms)} / ${ms(kind.certificate.p99Ms)} |`,
    );
  }
  lines.push(
    '',
    'The search service has no switch to skip certificates: "without" is each query\'s total minus the certificate step it times itself. ' +
      'The exact scan that proves the list (scope exact) is counted in "without".',
  );
  if (r.skipped.length) lines.push('', '## Left out', '', ...r.skipped.map((s) => `- ${s}`));
  return `${lines.join('\n')}\n`;
}

/** Writes bench.json and bench.md into `dir` (created). */
export function writeReport(dir: string, report: BenchReport): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'bench.json');
  const markdown = join(dir, 'bench.md');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  return { json, markdown };
}
