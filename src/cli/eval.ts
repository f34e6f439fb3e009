/**
 * npm run eval [-- --quick] [--data <dir>] [--teacher <dir>] [--models <dir>] [--out <dir>] [--seed N]
 * Measures quality (copy detection, COCO semantic retrieval, category retrieval on held-out clothing and Caltech-101
 * photos, human 2AFC judgements on the cars) of LipSim, the baseline, the teacher and two floors (a thumbnail, an
 * untrained LipSim), then certified retrieval and empirical robustness of the models; writes <out>/eval.json, eval.md
 * and SVG figures (default reports/).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { PROJECT_ROOT, sharedDataDir, sharedTeacherDir } from '../config.js';
import { writeEvalReport } from '../eval/report.js';
import { runEval } from '../eval/runEval.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    data: { type: 'string', default: sharedDataDir() },
    teacher: { type: 'string', default: sharedTeacherDir() },
    models: { type: 'string' },
    out: { type: 'string', default: join(PROJECT_ROOT, 'reports') },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('usage: npm run eval -- [--quick] [--data DIR] [--teacher DIR] [--models DIR] [--out DIR] [--seed N]');
  process.exit(0);
}
const report = await runEval({
  dataDir: values.data!, teacherDir: values.teacher!, modelsDir: values.models, quick: values.quick!,
  seed: Number(values.seed), log: (line) => console.log(line),
});
for (const file of writeEvalReport(report, values.out!)) console.log(`wrote ${file}`);
