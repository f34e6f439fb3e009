import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { RANDOM_INIT_FLOOR, THUMBNAIL_FLOOR, thumbnailFloor } from '../../src/eval/floors.js';
import { evaluateHumanJudgements, twoAfcAgreement } from '../../src/eval/humanJudgements.js';
import { inGallerySpace } from '../../src/eval/models.js';
import type { EvalReport } from '../../src/eval/runEval.js';
import { INPUT_SIZE } from '../../src/model/preprocess.js';

describe('npm run eval -- --quick', () => {
  let out: string;
  let report: EvalReport;
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'lipsearch-eval-'));
    execFileSync('npm', ['run', '--silent', 'eval', '--', '--quick', '--out', out], { cwd: PROJECT_ROOT, stdio: 'pipe' });
    report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('measures every section for LipSim, the baseline and the teacher, traceable to the model versions', () => {
    const models = ['lipsim', 'baseline'];
    for (const m of models) expect(report.models[m].version).to.match(/^[0-9a-f]{64}$/);
    const teacher = Object.keys(report.models).find((m) => m.startsWith('teacher'))!;
    for (const m of [...models, teacher]) {
      const copy = report.copyDetection.results[m];
      for (const family of [...report.copyDetection.families, 'all'] as const) {
        const s = copy[family as keyof typeof copy];
        expect(s.recallAt1).to.be.within(0, 1);
        expect(s.mAP).to.be.within(0, 1);
      }
      expect(report.semanticRetrieval[m].queries).to.be.above(10);
      expect(report.semanticRetrieval[m].precisionAt['10']).to.be.within(0, 1);
    }
    expect(Object.keys(report.certifiedRetrieval)).to.deep.equal(['lipsim']); // no certificate without a proof
    for (const m of models) {
      expect(report.empiricalRobustness.results[m].length).to.be.above(0);
    }
    {
      const c = report.certifiedRetrieval.lipsim;
      expect(c.nearCopyQueries.top1Radii).to.have.length(c.nearCopyQueries.queries);
      expect(Object.keys(c.novelQueries.top1.certifiedShare)).to.have.length(5);
    }
  });

  it('measures the floors beside the models in every quality section', () => {
    expect(report.models[THUMBNAIL_FLOOR].role).to.equal('floor');
    // The untrained network of LipSim's architecture is exported on first use (PyTorch is installed by .ci/run).
    expect(report.models[RANDOM_INIT_FLOOR].role).to.equal('floor');
    expect(report.models[RANDOM_INIT_FLOOR].version).to.match(/^[0-9a-f]{64}$/);
    expect(report.absentFloors).to.deep.equal({});
    const measured = Object.keys(report.models);
    expect(measured).to.include.members(['lipsim', 'baseline', THUMBNAIL_FLOOR]);
    expect(Object.keys(report.categoryRetrieval)).to.deep.equal(['clothing', 'Caltech-101']);
    for (const m of measured) {
      expect(report.copyDetection.results[m].all.recallAt1).to.be.within(0, 1);
      expect(report.semanticRetrieval[m].precisionAt['10']).to.be.within(0, 1);
      for (const c of Object.values(report.categoryRetrieval)) {
        expect(c.queries).to.be.above(10);
        expect(c.results[m].precisionAt10).to.be.within(0, 1);
        expect(c.results[m].mAP).to.be.within(0, 1);
      }
      for (const values of Object.values(report.qualityOnHeldOutPhotos)) expect(values[m]).to.be.within(0, 1);
    }
    expect(Object.keys(report.qualityOnHeldOutPhotos)).to.have.length(5);
    // Floors have no place in the robustness sections.
    expect(Object.keys(report.empiricalRobustness.results)).to.deep.equal(['lipsim', 'baseline']);
  });

  it('scores the human 2AFC judgements on the cars, where the teacher agrees with people more than a thumbnail does', () => {
    const afc = report.twoAfc;
    if (!afc.available) throw new Error(`2AFC not measured: ${afc.reason}`);
    for (const m of Object.keys(report.models)) {
      expect(afc.results[m].decisions).to.equal(2 * afc.judgements).and.above(1000);
      expect(afc.results[m].agreement).to.be.within(0, 1);
    }
    const teacher = Object.keys(report.models).find((m) => report.models[m].role === 'reference')!;
    expect(afc.results[teacher].agreement).to.be.above(0.6);
    expect(afc.results[teacher].agreement).to.be.above(afc.results[THUMBNAIL_FLOOR].agreement);
  });

  it('finds no certificate or bound broken by the attacks on LipSim', () => {
    for (const o of report.empiricalRobustness.results.lipsim) {
      expect(o.boundViolations).to.equal(0);
      expect(o.certifiedButChanged).to.equal(0);
      if (o.bound !== null) for (const d of o.shifts) expect(d).to.be.at.most(o.bound + 1e-5);
    }
  });

  it('writes a readable report with its figures', () => {
    const md = readFileSync(join(out, 'eval.md'), 'utf8');
    for (const section of ['Quality on held-out photos', 'Copy detection', 'Semantic retrieval', 'Category retrieval', '2AFC', 'Certified retrieval', 'Empirical robustness']) {
      expect(md).to.include(section);
    }
    for (const [, file] of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
      expect(existsSync(join(out, file)), file).to.equal(true);
      expect(readFileSync(join(out, file), 'utf8')).to.match(/^<svg[\s\S]*<\/svg>\s*$/);
    }
  });
});

describe('2AFC agreement', () => {
  it('gives each "most central" judgement two decisions, ties counting half', () => {
    const v = (...x: number[]) => Float32Array.from(x);
    // Photo 1 lies between photos 0 and 2; from photo 1, photos 0 and 2 are equally far.
    const photos = [v(1, 0), v(Math.SQRT1_2, Math.SQRT1_2), v(0, 1)];
    expect(twoAfcAgreement(photos, [{ centre: 1, others: [0, 2] }])).to.deep.equal({ decisions: 2, agreement: 1 });
    // "0 is central": from 1 a tie (half), from 2 the model disagrees.
    expect(twoAfcAgreement(photos, [{ centre: 0, others: [1, 2] }])).to.deep.equal({ decisions: 2, agreement: 0.25 });
  });

  it('reports a missing judgement folder as unavailable instead of failing', async () => {
    const section = await evaluateHumanJudgements([], join(tmpdir(), 'no-such-judgements'), 'cars');
    expect(section).to.include({ available: false, dataset: 'cars' });
  });
});

describe('thumbnail floor', () => {
  it('averages 14×14 blocks of the model input, and is compared only after centring on the gallery mean', async () => {
    const floor = thumbnailFloor();
    // Every pixel of block (by, bx) of channel c holds c + (16·by + bx) / 256.
    const block = (c: number, y: number, x: number) => c + (16 * Math.floor(y / 14) + Math.floor(x / 14)) / 256;
    const pixels = Float32Array.from({ length: 3 * INPUT_SIZE * INPUT_SIZE }, (_, i) =>
      block(Math.floor(i / INPUT_SIZE ** 2), Math.floor(i / INPUT_SIZE) % INPUT_SIZE, i % INPUT_SIZE));
    const [thumbnail] = await floor.embed([pixels]);
    expect(thumbnail).to.have.length(768);
    thumbnail.forEach((value, j) => expect(value).to.be.closeTo(block(Math.floor(j / 256), 14 * Math.floor((j % 256) / 16), 14 * (j % 16)), 1e-5));

    expect(floor.setCentred).to.equal(true);
    const gallery = [Float32Array.from([1, 1, 3]), Float32Array.from([1, 1, 1])];
    const toSpace = inGallerySpace(floor, gallery);
    expect([...toSpace(gallery[0])]).to.deep.equal([0, 0, 1]);
    expect([...toSpace(Float32Array.from([3, 1, 2]))]).to.deep.equal([1, 0, 0]);
  });
});
