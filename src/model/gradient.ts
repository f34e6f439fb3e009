import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultModelsDir, loadModelCard, type ModelCard } from './card.js';
import { type ModelOptions, packInputs, unpackRows } from './embedder.js';
import { openSession } from './session.js';

export interface EmbeddingWithGradient {
  readonly embedding: Float32Array;
  /** ∂⟨f(x), direction⟩/∂x, planar like the input. */
  readonly gradient: Float32Array;
}

/**
 * The exported gradient graph: embeddings and input gradients of ⟨f(x), direction⟩ in one run. Any attack
 * loss ℓ(f(x)) follows by the chain rule with direction = ∂ℓ/∂f; e.g. ‖f(x) − t‖² uses 2(f(x) − t).
 */
export class GradientModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly card: ModelCard,
  ) {}

  static async open(options: ModelOptions = {}): Promise<GradientModel> {
    const dir = options.modelsDir ?? defaultModelsDir();
    const card = loadModelCard(options.model ?? 'lipsim', dir);
    const { session } = await openSession(join(dir, card.files.gradient), options);
    return new GradientModel(session, card);
  }

  async run(inputs: readonly Float32Array[], directions: readonly Float32Array[]): Promise<EmbeddingWithGradient[]> {
    if (inputs.length !== directions.length) throw new RangeError('one direction per input');
    const dim = this.card.embeddingDim;
    const dir = new Float32Array(inputs.length * dim);
    directions.forEach((d, i) => {
      if (d.length !== dim) throw new RangeError(`direction ${i} has ${d.length} values, expected ${dim}`);
      dir.set(d, i * dim);
    });
    const out = await this.session.run({
      pixels: packInputs(inputs),
      direction: new ort.Tensor('float32', dir, [inputs.length, dim]),
    });
    const embeddings = unpackRows(out.embedding);
    const gradients = unpackRows(out.gradient);
    return embeddings.map((embedding, i) => ({ embedding, gradient: gradients[i] }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
