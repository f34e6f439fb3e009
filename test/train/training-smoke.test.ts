import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

describe('training pipeline smoke test (Python): prepare, train, export, parity', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lipsearch-train-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trains two steps of each stage on a handful of photos, exports, and onnxruntime matches PyTorch', async () => {
    const cache = join(dir, 'cache');
    const ckpt = join(dir, 'ckpt');
    const models = join(dir, 'models');
    const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
    run(tsx, ['scripts/train/prepare-data.ts', '--data', DATA_DIR, '--teacher', join(sharedTeacherDir(), 'mobilenet_v2.onnx'), '--out', cache, '--limit', '12']);
    const common = ['--cache', cache, '--out', ckpt, '--steps', '2', '--batch', '4', '--threads', '1'];
    run(PYTHON, ['scripts/train/train.py', ...common, '--name', 'lipsim-distill']);
    run(PYTHON, ['scripts/train/train.py', ...common, '--name', 'lipsim-hinge', '--stage', 'hinge', '--init', join(ckpt, 'lipsim-distill.pt')]);
    run(PYTHON, ['scripts/train/train.py', ...common, '--name', 'lipsim-rel', '--stage', 'hinge', '--relational-weight', '1', '--init', join(ckpt, 'lipsim-hinge.pt')]);
    run(PYTHON, ['scripts/train/train.py', ...common, '--name', 'lipsim', '--stage', 'hinge', '--relational-weight', '1', '--init', join(ckpt, 'lipsim-rel.pt')]);
    run(PYTHON, ['scripts/train/train.py', ...common, '--name', 'baseline', '--baseline']);
    run(tsx, ['scripts/train/golden-inputs.ts', '--data', DATA_DIR, '--out', join(cache, 'golden')]);
    run(PYTHON, ['scripts/train/export.py', '--checkpoints', ckpt, '--golden', join(cache, 'golden'), '--models', models]);

    const golden = JSON.parse(readFileSync(join(models, 'golden.json'), 'utf8'));
    const card = JSON.parse(readFileSync(join(models, 'lipsim.json'), 'utf8'));
    expect(card.lipschitz.constant).to.equal(1);
    expect(card.lipschitz.checks.linear_max_sigma).to.be.at.most(1);
    expect(card.gradientGraph.maxRelativeErrorVsAutograd).to.be.below(1e-4);
    expect(card.training.stages.map((s: { name: string }) => s.name)).to.deep.equal(['lipsim-distill', 'lipsim-hinge', 'lipsim-rel', 'lipsim']);
    expect(card.training.stages[3].final.relational).to.be.a('number');
    for (const name of ['lipsim', 'baseline'] as const) {
      const embedder = await Embedder.open({ model: name, modelsDir: models, device: 'cpu' });
      const inputs = await Promise.all((golden.files as string[]).map((f) => loadModelInput(dataFile(f))));
      const vectors = await embedder.embed(inputs.map((x) => x.pixels));
      vectors.forEach((v, i) => v.forEach((x, j) => expect(x).to.be.closeTo(golden.models[name].embedding[i][j], 1e-5)));
      await embedder.close();
    }
  });
});
