import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import type { EvalReport } from '../../src/eval/runEval.js';

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
    expect(report.twoAfc.available).to.equal(false);
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
    for (const section of ['Copy detection', 'Semantic retrieval', 'Certified retrieval', 'Empirical robustness', '2AFC']) {
      expect(md).to.include(section);
    }
    for (const [, file] of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
      expect(existsSync(join(out, file)), file).to.equal(true);
      expect(readFileSync(join(out, file), 'utf8')).to.match(/^<svg[\s\S]*<\/svg>\s*$/);
    }
  });
});
