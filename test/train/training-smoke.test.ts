import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, sharedTeacherDir } from '../../src/config.js';
import { Embedder } from '../../src/model/embedder.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { DATA_DIR, dataFile } from '../helpers/paths.js';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** Runs a step of the training pipeline from the project root, failing the test with its output. */
function run(command: string, args: string[]): void {
  execFileSync(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('training pipeline smoke test (Python): prepare, train, export, parity, GPU burst', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lipsearch-train-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  const teacherFile = join(sharedTeacherDir(), 'mobilenet_v2.onnx');

  it('trains two steps of each stage on a handful of photos, exports, and onnxruntime matches PyTorch', async () => {
    const cache = join(dir, 'cache');
    const ckpt = join(dir, 'ckpt');
    const models = join(dir, 'models');
    run(tsx, ['scripts/train/prepare-data.ts', '--data', DATA_DIR, '--teacher', teacherFile, '--out', cache, '--limit', '12']);
    const common = ['--cache', cache, '--out', ckpt, '--steps', '2', '--batch', '4', '--threads', '1'];
    const hinge = ['--stage', 'hinge', '--relational-weight', '1'];
    // train-all.sh's LipSim stages in order, each started from the one before.
    const stages: [string, string[]][] = [
      ['lipsim-distill', []],
      ['lipsim-hinge', ['--stage', 'hinge']],
      ['lipsim-rel', hinge],
      ['lipsim-rel2', hinge],
      ['lipsim', [...hinge, '--thumbnail']],
      ['lipsim-stage6', hinge],
      ['lipsim-stage7', [...hinge, '--pool-grid', '3']],
      ...[8, 9, 10, 11].map((n): [string, string[]] => [`lipsim-stage${n}`, hinge]),
      ['lipsim-stage12', [...hinge, '--neighbour-group', '4']],
      ['lipsim-stage13', [...hinge, '--neighbour-group', '4']],
      ['lipsim-stage14', [...hinge, '--neighbour-group', '8']],
      ['lipsim-stage15', [...hinge, '--neighbour-group', '8']],
    ];
    stages.forEach(([name, args], i) => {
      const init = i === 0 ? [] : ['--init', join(ckpt, `${stages[i - 1][0]}.pt`)];
      run(PYTHON, ['scripts/train/train.py', ...common, ...args, '--name', name, ...init]);
    });
    run(PYTHON, ['scripts/train/train.py', ...common, '--name', 'baseline', '--baseline']);
    run(tsx, ['scripts/train/golden-inputs.ts', '--data', DATA_DIR, '--out', join(cache, 'golden')]);
    const names = stages.map(([name]) => name);
    run(PYTHON, ['scripts/train/export.py', '--checkpoints', ckpt, '--golden', join(cache, 'golden'), '--models', models,
      '--lipsim-stages', names.join(',')]);

    const card = JSON.parse(readFileSync(join(models, 'lipsim.json'), 'utf8'));
    expect(card.lipschitz.constant).to.equal(1);
    expect(card.lipschitz.checks.linear_max_sigma).to.be.at.most(1);
    expect(card.lipschitz.checks.thumbnail_branch_gain).to.be.within(0.999, 1);
    expect(card.lipschitz.checks.pool_sigma).to.be.within(1 - 1e-6, 1);
    expect(card.gradientGraph.maxRelativeErrorVsAutograd).to.be.below(1e-4);
    expect(card.architecture.thumbnail).to.equal(true);
    expect(card.architecture.pool_grid).to.equal(3);
    expect(card.training.stages.map((s: { name: string }) => s.name)).to.deep.equal(names);
    expect(card.training.stages[14].final.relational).to.be.a('number');
    expect(card.training.stages[12].args.neighbour_group).to.equal(4);
    expect(card.training.stages[14].args.neighbour_group).to.equal(8);
    await expectParity(models, ['lipsim', 'baseline']);
  });

  it('runs the GPU burst path on the CPU: warm start from the exported model, two steps on a pack, export', async () => {
    const pack = join(dir, 'pack');
    const burst = join(dir, 'ckpt-gpu');
    const models = join(dir, 'models-gpu');
    cpSync(join(dir, 'models'), models, { recursive: true });
    run(tsx, ['scripts/train/pack-photos.ts', '--data', DATA_DIR, '--teacher', teacherFile, '--out', pack, '--limit', '20', '--max-val', '8']);
    mkdirSync(burst);
    const rebuilt = execFileSync(PYTHON, ['scripts/train/warm_start.py', join(models, 'lipsim.onnx'), join(burst, 'start.pt'),
      '--golden', join(dir, 'cache', 'golden')], { cwd: PROJECT_ROOT, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8' });
    // The rebuilt trainable network is the exported one (T^-1 is refitted through log q, to about 1e-3).
    expect(JSON.parse(rebuilt.trim().split('\n').pop()!).max_abs_difference).to.be.below(2e-3);
    run(PYTHON, ['scripts/train/gpu_burst.py', '--pack', pack, '--init', join(burst, 'start.pt'), '--out', burst, '--name', 'lipsim-gpu',
      '--device', 'cpu', '--steps', '2', '--batch', '6']);
    // As train-all.sh does: the stages of the card being continued, then the burst.
    const earlier = JSON.parse(readFileSync(join(models, 'lipsim.json'), 'utf8')).training.stages.map((s: { name: string }) => s.name);
    run(PYTHON, ['scripts/train/export.py', '--checkpoints', burst, '--golden', join(dir, 'cache', 'golden'), '--models', models,
      '--lipsim-stages', [...earlier, 'lipsim-gpu'].join(',')]);
    const card = JSON.parse(readFileSync(join(models, 'lipsim.json'), 'utf8'));
    expect(card.training.stages).to.have.length(16);
    expect(card.training.stages[14].carried_from_previous_card).to.equal(true);
    const burstStage = card.training.stages[15];
    expect(burstStage.steps).to.equal(2);
    expect(burstStage.initial.copy_recall_at_1).to.be.within(0, 1);
    expect(burstStage.final.copy_recall_at_1).to.be.within(0, 1);
    await expectParity(models, ['lipsim', 'baseline']);
  });
});

/** onnxruntime-node embeds the golden photos as PyTorch did at export. */
async function expectParity(models: string, names: readonly ('lipsim' | 'baseline')[]): Promise<void> {
  const golden = JSON.parse(readFileSync(join(models, 'golden.json'), 'utf8'));
  for (const name of names) {
    const embedder = await Embedder.open({ model: name, modelsDir: models, device: 'cpu' });
    const inputs = await Promise.all((golden.files as string[]).map((f) => loadModelInput(dataFile(f))));
    const vectors = await embedder.embed(inputs.map((x) => x.pixels));
    vectors.forEach((v, i) => v.forEach((x, j) => expect(x).to.be.closeTo(golden.models[name].embedding[i][j], 1e-5)));
    await embedder.close();
  }
}
