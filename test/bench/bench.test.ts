import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from '../../src/bench/report.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { tempDir } from '../helpers/tempFolders.js';

/** Every number in `value` (deeply), with its path. */
function numbersIn(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbersIn(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbersIn(v, `${path}.${k}`));
  return [];
}

describe('npm run bench -- --quick (report completeness, not figures)', function () {
  this.timeout(600_000);
  let out: string;
  let report: BenchReport;
  let markdown: string;
  let code: number | null;
  let stderr = '';

  before(async () => {
    out = tempDir('bench');
    const child = spawn('npm', ['run', 'bench', '--', '--quick', '--out', out], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d) => (stderr += d));
    code = await new Promise((resolve) => child.on('close', resolve));
    report = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchReport;
    markdown = readFileSync(join(out, 'bench.md'), 'utf8');
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0 and writes bench.json with every figure a finite number', () => {
    expect(code, stderr).to.equal(0);
    expect(report).to.include({ schemaVersion: 1, mode: 'quick' });
    const bad = numbersIn(report).filter(([, n]) => !Number.isFinite(n));
    expect(bad, 'non-finite figures').to.deep.equal([]);
  });

  it('describes the machine and the exact model file measured', () => {
    const m = report.machine;
    expect(m.cores).to.be.a('number').and.at.least(1);
    expect(m.cpuModel).to.be.a('string').and.not.equal('');
    expect(m.memoryBytes).to.be.above(0);
    const model = readFileSync(join(PROJECT_ROOT, 'models', m.model.file));
    expect(m.model.sha256).to.equal(createHash('sha256').update(model).digest('hex'));
  });

  it('has every measurement: ingest vs raw, query latency, HNSW scaling, exact scan, PGD, HTTP', () => {
    const { ingest, query, indexScaling, exactScan, pgd, http } = report;
    expect(ingest.images).to.equal(report.corpus.images);
    expect(ingest.ingestImagesPerSecond.runs).to.have.length(3);
    expect(ingest.rawImagesPerSecond.runs).to.have.length(3);
    expect(ingest.decodeMsPerImage.runs).to.have.length(3);
    expect(ingest.sharedCoresCeiling).to.be.within(0, 1);
    expect(ingest.ratio).to.be.closeTo(ingest.ingestImagesPerSecond.median / ingest.rawImagesPerSecond.median, 1e-9);
    for (const kind of [query.byId, query.byUpload]) {
      expect(kind.queries).to.be.above(0);
      expect(kind.total.p99Ms).to.be.at.least(kind.total.p50Ms);
      expect(kind.certificate.p50Ms).to.be.at.least(0);
    }
    expect(query.byId.queries).to.equal(3 * query.corpus);
    expect(indexScaling.points.map((p) => p.corpus)).to.deep.equal([10_000]);
    const point = indexScaling.points[0];
    expect(point.dim).to.equal(256);
    expect(point.efs.length).to.be.above(1);
    for (const ef of point.efs) expect(ef.recallAt10).to.be.within(0, 1);
    if (point.chosen) expect(point.chosen.recallAt10).to.be.at.least(0.99);
    expect(exactScan.points.map((p) => p.corpus)).to.deep.equal([1_000, 10_000]);
    expect(pgd.steps).to.equal(50);
    expect(pgd.seconds.runs).to.have.length.at.least(1);
    expect(http.map((h) => h.name)).to.deep.equal(['search by id', 'thumbnail']);
    for (const h of http) {
      expect(h.requests).to.be.above(0);
      expect(h.durationSeconds).to.be.at.least(4);
      for (const count of [h.errors, h.timeouts, h.non2xx]) expect(Number.isInteger(count)).to.equal(true);
    }
  });

  it('measures phone-size photos against the corpus photos of the same run', () => {
    const { phone, ingest, query } = report;
    expect(phone).to.include({ images: 8, width: 4032, height: 3024, ingestRatioTarget: 0.7, uploadRatioTarget: 2 });
    expect(phone.corpusIngestImagesPerSecond).to.equal(ingest.ingestImagesPerSecond.median);
    expect(phone.corpusUploadP50Ms).to.equal(query.byUpload.total.p50Ms);
    expect(phone.ingestRatio).to.be.closeTo(phone.ingestImagesPerSecond / phone.corpusIngestImagesPerSecond, 1e-9);
    expect(phone.uploadRatio).to.be.closeTo(phone.uploadP50Ms / phone.corpusUploadP50Ms, 1e-9);
    expect(phone.meetsTargets).to.equal(phone.ingestRatio >= 0.7 && phone.uploadRatio <= 2);
  });

  it('measures the PostgreSQL backend in the same run: ingest, queries over the database, pgvector HNSW recall', () => {
    const { postgres, ingest, query } = report;
    expect(postgres.ingestImages).to.equal(report.corpus.images);
    expect(postgres.ingestImagesPerSecond).to.be.above(0);
    expect(postgres.embeddedIngestImagesPerSecond).to.equal(ingest.ingestImagesPerSecond.median);
    // The same search service over the same photos: the same corpus and scope as the folder index.
    expect(postgres.query.corpus).to.equal(query.corpus);
    expect(postgres.query.scope).to.equal('exact');
    expect(postgres.query.byId.total.count).to.equal(query.byId.total.count);
    expect(postgres.index.map((p) => p.corpus)).to.deep.equal([10_000]);
    for (const point of postgres.index) {
      expect(point.efs.map((e) => e.ef)).to.deep.equal([16, 32, 64, 128, 256, 512]);
      for (const e of point.efs) expect(e.recallAt10).to.be.within(0, 1);
      // pgvector's HNSW at the widest search is close to exact on clustered data; a broken query would not be.
      expect(point.efs.at(-1)!.recallAt10).to.be.above(0.9);
      expect(point.chosen).to.deep.equal(point.efs.find((e) => e.recallAt10 >= 0.99) ?? null);
    }
  });

  it('writes a markdown table with a row per headline figure', () => {
    expect(markdown).to.match(/^# Benchmarks \(quick\)/);
    expect(markdown).to.include(report.machine.model.sha256.slice(0, 16));
    for (const row of ['Ingest vs raw onnxruntime', 'Decode path per image', 'Query by id', 'Query by upload', 'Phone-size photos', 'HNSW at 10^4', 'Exact scan', 'PGD attack', 'HTTP search by id', 'HTTP thumbnail', 'PostgreSQL ingest vs folder', 'PostgreSQL query by id', 'pgvector HNSW at 10^4']) {
      expect(markdown.split('\n').some((line) => line.startsWith(`| ${row}`)), row).to.equal(true);
    }
  });
});
