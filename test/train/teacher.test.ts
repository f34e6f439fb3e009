import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PROJECT_ROOT, sharedTeacherDir } from '../../src/config.js';
import { packInputs, unpackRows } from '../../src/model/embedder.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { dataFile } from '../helpers/paths.js';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const PHOTOS = ['coco/images/000000010005.jpg', 'imagenet-sample/images/n01440764_tench.jpg', 'clothing/images/dress/009b3c31-fb62-45c0-be9a-37a5c238cb88.jpg'];

describe('the teacher as a PyTorch module (scripts/train/teacher.py, used by the GPU burst)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lipsearch-teacher-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('embeds real photos as onnxruntime-node does', async () => {
    const teacher = join(sharedTeacherDir(), 'mobilenet_v2.onnx');
    const inputs = await Promise.all(PHOTOS.map(async (f) => (await loadModelInput(dataFile(f))).pixels));
    const packed = packInputs(inputs);
    const file = join(dir, 'inputs.f32');
    writeFileSync(file, packed.data as Float32Array);
    const torchOut = JSON.parse(execFileSync(PYTHON, ['scripts/train/teacher.py', teacher, file], {
      cwd: PROJECT_ROOT, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8', maxBuffer: 1 << 24,
    })) as number[][];
    const session = await ort.InferenceSession.create(teacher);
    const ortOut = unpackRows((await session.run({ pixels: packed })).embedding);
    await session.release();
    expect(torchOut).to.have.length(PHOTOS.length);
    ortOut.forEach((v, i) => {
      const diff = Math.hypot(...v.map((x, j) => x - torchOut[i][j]));
      expect(diff / Math.hypot(...v)).to.be.below(1e-4);
      expect(Math.hypot(...v)).to.be.above(10); // a real embedding (norms ≈ 29), not zeros matching zeros
    });
  });
});
