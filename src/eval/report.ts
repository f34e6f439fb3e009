import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport } from './runEval.js';
import { groupedBars, histogram } from './svg.js';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '∞');

/** The headline table: one row per quality section, one column per model, the teacher and each floor. */
function qualityTable(report: EvalReport): string[] {
  const columns = [...Object.keys(report.models), ...Object.keys(report.absentFloors)];
  const lines = ['## Quality on held-out photos', '', `| | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`];
  for (const [metric, values] of Object.entries(report.qualityOnHeldOutPhotos)) {
    const format = metric.includes('P@') ? num : pct;
    lines.push(`| ${metric} | ${columns.map((c) => (c in report.absentFloors ? 'absent' : values[c] === null ? '–' : format(values[c]!))).join(' | ')} |`);
  }
  lines.push('', 'Held out from training: the copy-detection originals, the clothing and Caltech-101 photos, and the cars (never',
    'used). COCO semantic retrieval ranks the whole COCO set (section 2), most of which the models were distilled on,',
    'without its labels. Floors: a 16×16 thumbnail of the model input centred on the mean of the set it is compared in',
    '(colour layout only), and LipSim before training (the architecture alone). The teacher is the reference.');
  return lines;
}

/** Writes eval.json, eval.md and the SVG figures it links to into `dir`; returns the written paths. */
export function writeEvalReport(report: EvalReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  const labels = Object.keys(report.copyDetection.results);
  const families = [...report.copyDetection.families, 'all'] as const;

  files['eval-copy-detection.svg'] = groupedBars('Copy detection recall@1 by transform', [...families],
    labels.map((l) => ({ label: l, values: families.map((f) => report.copyDetection.results[l][f as keyof (typeof report.copyDetection.results)[string]].recallAt1) })),
    'recall@1');
  const certModels = Object.keys(report.certifiedRetrieval);
  files['eval-certified-radii.svg'] = histogram('Certified top-1 radius (model-input l2), near-copy queries',
    certModels.map((m) => ({ label: m, values: report.certifiedRetrieval[m].nearCopyQueries.top1Radii })),
    'certified radius', [{ x: 36 / 255, label: '36/255' }, { x: 0.5, label: '0.5' }]);
  for (const outcome of report.empiricalRobustness.results.lipsim ?? []) {
    if (outcome.bound === null) continue;
    const series = Object.entries(report.empiricalRobustness.results).map(([m, outcomes]) => ({
      label: m, values: outcomes.find((x) => x.budget === outcome.budget)!.shifts,
    }));
    const name = `eval-attack-shift-${outcome.budget.replace(/[^a-z0-9.]+/gi, '-')}.svg`;
    files[name] = histogram(`d(x, x+δ) under untargeted PGD, ${outcome.budget}`, series, 'd(x, x + δ)',
      [{ x: outcome.bound, label: `1-Lipschitz bound ε²/2 = ${outcome.bound.toFixed(3)}` }]);
  }

  const md: string[] = [];
  md.push('# Evaluation report', '', `Created ${report.createdAt} by \`npm run eval${report.options.quick ? ' -- --quick' : ''}\` (seed ${report.options.seed}) in ${report.seconds} s.`, '');
  md.push('| model | role | version (sha256 of the ONNX file) |', '|---|---|---|');
  for (const [m, info] of Object.entries(report.models)) md.push(`| ${m} | ${info.role} | ${info.version ?? (info.role === 'floor' ? 'computed, no file' : 'external')} |`);
  for (const [m, reason] of Object.entries(report.absentFloors)) md.push(`| ${m} | floor | absent: ${reason} |`);
  md.push('', ...qualityTable(report), '');
  md.push(`## 1. Copy detection (${report.copyDetection.originals} held-out originals, one copy per transform)`, '');
  md.push(`| model | ${families.join(' | ')} |`, `|---|${families.map(() => '---').join('|')}|`);
  for (const l of labels) {
    const r = report.copyDetection.results[l] as Record<string, { recallAt1: number; mAP: number }>;
    md.push(`| ${l} | ${families.map((f) => `${pct(r[f].recallAt1)} (mAP ${num(r[f].mAP)})`).join(' | ')} |`);
  }
  md.push('', '![copy detection](eval-copy-detection.svg)', '');
  md.push('## 2. Semantic retrieval on COCO (relevant = shares an object category)', '');
  md.push('| model | queries | P@1 | P@5 | P@10 | mAP |', '|---|---|---|---|---|---|');
  for (const [m, s] of Object.entries(report.semanticRetrieval)) {
    md.push(`| ${m} | ${s.queries} | ${num(s.precisionAt['1'])} | ${num(s.precisionAt['5'])} | ${num(s.precisionAt['10'])} | ${num(s.mAP)} |`);
  }
  md.push('', '## 3. Category retrieval on held-out photos (relevant = the same class)', '');
  md.push('Each held-out photo queries the other held-out photos of its dataset; photos alone in their class are not queries.', '');
  md.push('| dataset | photos | classes | queries | best possible P@10 | model | P@10 | mAP |', '|---|---|---|---|---|---|---|---|');
  for (const [name, c] of Object.entries(report.categoryRetrieval)) {
    for (const [m, s] of Object.entries(c.results)) {
      md.push(`| ${name} | ${c.photos} | ${c.classes} | ${c.queries} | ${num(c.bestPrecisionAt10)} | ${m} | ${num(s.precisionAt10)} | ${num(s.mAP)} |`);
    }
  }
  md.push('', '## 4. Human perceptual judgements (2AFC)', '');
  const afc = report.twoAfc;
  if (afc.available) {
    md.push(`${afc.judgements} judgements "B is the most central of (B, X, Y)" on ${afc.photos} ${afc.dataset} photos, each two decisions`,
      'd(X, B) < d(X, Y) and d(Y, B) < d(Y, X); agreement = share of decisions a model orders the same way (ties count half).', '');
    md.push('| model | decisions | agreement |', '|---|---|---|');
    for (const [m, s] of Object.entries(afc.results)) md.push(`| ${m} | ${s.decisions} | ${pct(s.agreement)} |`);
  } else {
    md.push(`Not measured (${afc.dataset}): ${afc.reason}.`);
  }
  md.push('', '## 5. Certified retrieval (exact scope, COCO corpus, k = 10)', '');
  md.push('Share of queries whose answer is certified at each ε (l2, model-input space):', '');
  const eps = Object.keys(Object.values(report.certifiedRetrieval)[0]?.nearCopyQueries.top1.certifiedShare ?? {});
  md.push(`| model | queries | radius | median | ${eps.map((e) => `ε=${e}`).join(' | ')} |`, `|---|---|---|---|${eps.map(() => '---').join('|')}|`);
  for (const [m, c] of Object.entries(report.certifiedRetrieval)) {
    for (const [kind, r] of [['near-copy', c.nearCopyQueries], ['novel', c.novelQueries]] as const) {
      for (const [which, s] of [['top-1', r.top1], ['top-10 set', r.topkSet]] as const) {
        md.push(`| ${m} | ${kind} | ${which} | ${num(s.quantiles.p50)} | ${eps.map((e) => pct(s.certifiedShare[e])).join(' | ')} |`);
      }
    }
    md.push(`| ${m} | | sphere bound narrower than Prop 4.1 | | ${pct(c.nearCopyQueries.sphereBeatsProp41.share)} of intervals, mean width ratio ${num(c.nearCopyQueries.sphereBeatsProp41.meanWidthRatio)} | |`);
  }
  md.push('', '![certified radii](eval-certified-radii.svg)', '');
  const er = report.empiricalRobustness;
  md.push(`## 6. Empirical robustness (untargeted PGD, ${er.queries} COCO queries, ${er.steps} steps, top-${er.k})`, '');
  md.push('| model | budget | top-1 survives | top-k set survives | mean d(x, x+δ) | bound | bound violations | certified but changed |', '|---|---|---|---|---|---|---|---|');
  for (const [m, outcomes] of Object.entries(er.results)) {
    for (const o of outcomes) {
      const mean = o.shifts.reduce((a, b) => a + b, 0) / o.shifts.length;
      md.push(`| ${m} | ${o.budget} | ${pct(o.top1Survives)} | ${pct(o.topkSetSurvives)} | ${num(mean)} | ${o.bound === null ? '–' : num(o.bound)} | ${m === 'lipsim' ? o.boundViolations : '–'} | ${m === 'lipsim' ? o.certifiedButChanged : '–'} |`);
    }
  }
  md.push('');
  for (const name of Object.keys(files).filter((f) => f.startsWith('eval-attack-shift'))) md.push(`![${name}](${name})`);
  md.push('');
  files['eval.md'] = md.join('\n');
  files['eval.json'] = JSON.stringify(report, null, 1);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return Object.keys(files).map((f) => join(dir, f));
}
