import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelsDir, type ModelName } from '../../src/model/card.js';
import { Embedder } from '../../src/model/embedder.js';
import { GradientModel } from '../../src/model/gradient.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { DeviceUnavailableError, cudaProviderPath } from '../../src/model/session.js';
import { existsSync } from 'node:fs';
import { dataFile } from '../helpers/paths.js';

interface Golden {
  files: string[];
  models: Record<ModelName, {
    version: string;
    embedding: number[][];
    direction: number[][];
    gradientStride: number;
    gradientSamples: number[][];
    gradientFloat32Error: number[];
    gradientNorms: number[];
  }>;
}

const golden = JSON.parse(readFileSync(join(defaultModelsDir(), 'golden.json'), 'utf8')) as Golden;

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
  }
  return Math.sqrt(num / den);
}

for (const name of ['lipsim', 'baseline'] as const) {
  describe(`${name} model in onnxruntime-node`, () => {
    let inputs: Float32Array[];
    before(async () => {
      inputs = (await Promise.all(golden.files.map((f) => loadModelInput(dataFile(f))))).map((x) => x.pixels);
    });

    it('reproduces the PyTorch embeddings of real photos (golden vectors from the export)', async () => {
      const embedder = await Embedder.open({ model: name, device: 'cpu' });
      expect(embedder.card.version).to.equal(golden.models[name].version);
      const vectors = await embedder.embed(inputs);
      vectors.forEach((v, i) => {
        const want = golden.models[name].embedding[i];
        expect(v.length).to.equal(want.length);
        for (let j = 0; j < v.length; j++) expect(Math.abs(v[j] - want[j])).to.be.below(1e-5);
      });
      await embedder.close();
    });

    it('returns unit vectors, batch size not changing the result', async () => {
      const embedder = await Embedder.open({ model: name, device: 'cpu' });
      const { embeddings, norms } = await embedder.embedWithNorms(inputs);
      const single = await embedder.embed([inputs[3]]);
      for (const v of embeddings) expect(norm(v)).to.be.closeTo(1, 1e-5);
      for (let j = 0; j < single[0].length; j++) expect(single[0][j]).to.be.closeTo(embeddings[3][j], 1e-5);
      if (name === 'lipsim') for (const n of norms) expect(n).to.be.at.least(1);
      await embedder.close();
    });

    it('has a gradient graph that matches autograd (relative error < 1e-4, 1 % on a photo at a ReLU kink)', async () => {
      const model = await GradientModel.open({ model: name, device: 'cpu' });
      const g = golden.models[name];
      const out = await model.run(inputs, g.direction.map((d) => Float32Array.from(d)));
      // A golden photo can sit within float32 rounding of a ReLU kink (a pre-activation of about 0), where two
      // runtimes legitimately take different sides: two of the stage-8 model's six do (moved by 1e-3, onnxruntime
      // and PyTorch agree on them to 3e-7 again). So every photo is held to 1 % and at least four to 1e-4: a wrong
      // vector-Jacobian product is off on every photo, not on one or two.
      const errors = out.map((r, i) => {
        const sampled = Float32Array.from(g.gradientSamples[i], (_, k) => r.gradient[k * g.gradientStride]);
        return Math.max(relativeError(sampled, g.gradientSamples[i]), relativeError([norm(r.gradient)], [g.gradientNorms[i]]));
      });
      for (const e of errors) expect(e).to.be.below(1e-2);
      expect(errors.filter((e) => e < 1e-4).length).to.be.at.least(4);
      out.forEach((r, i) => {
        for (let j = 0; j < r.embedding.length; j++) expect(r.embedding[j]).to.be.closeTo(g.embedding[i][j], 1e-5);
      });
      await model.close();
    });
  });
}

describe('execution provider selection', () => {
  it('fails clearly when CUDA is requested on a host without the CUDA provider', async function () {
    if (existsSync(cudaProviderPath())) this.skip(); // a GPU host: covered by the device check script
    const err = await Embedder.open({ device: 'cuda' }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(DeviceUnavailableError);
    expect((err as Error).message).to.match(/CUDA.*--device cpu/);
  });

  it('falls back to the CPU with --device auto', async () => {
    const embedder = await Embedder.open({ device: 'auto' });
    expect(embedder.device).to.be.oneOf(['cpu', 'cuda']);
    await embedder.close();
  });
});
