import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultModelsDir, loadModelCard, type ModelCard, type ModelName } from './card.js';
import { INPUT_SIZE } from './preprocess.js';
import { openSession, type SessionOptions } from './session.js';

export const PIXELS_PER_INPUT = 3 * INPUT_SIZE * INPUT_SIZE;

export interface ModelOptions extends SessionOptions {
  readonly model?: ModelName;
  readonly modelsDir?: string;
}

/** Packs planar model inputs into one [N, 3, 224, 224] tensor. */
export function packInputs(inputs: readonly Float32Array[]): ort.Tensor {
  const data = new Float32Array(inputs.length * PIXELS_PER_INPUT);
  inputs.forEach((x, i) => {
    if (x.length !== PIXELS_PER_INPUT) throw new RangeError(`model input ${i} has ${x.length} values`);
    data.set(x, i * PIXELS_PER_INPUT);
  });
  return new ort.Tensor('float32', data, [inputs.length, 3, INPUT_SIZE, INPUT_SIZE]);
}

/** Splits a [N, ...] output tensor into N owned Float32Arrays. */
export function unpackRows(tensor: ort.Tensor): Float32Array[] {
  const data = tensor.data as Float32Array;
  const n = tensor.dims[0];
  const width = data.length / n;
  return Array.from({ length: n }, (_, i) => data.slice(i * width, (i + 1) * width));
}

/** Embeds model inputs into unit vectors with a model from models/ (LipSim by default). */
export class Embedder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly card: ModelCard,
    readonly device: 'cpu' | 'cuda',
  ) {}

  static async open(options: ModelOptions = {}): Promise<Embedder> {
    const dir = options.modelsDir ?? defaultModelsDir();
    const card = loadModelCard(options.model ?? 'lipsim', dir);
    const { session, device } = await openSession(join(dir, card.files.embedding), options);
    return new Embedder(session, card, device);
  }

  get dim(): number {
    return this.card.embeddingDim;
  }

  /** One onnxruntime run over all inputs (callers choose the batch size): unit vectors. */
  async embed(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return [];
    // Fetch only the embedding: models exported without the diagnostic 'norm' output still work.
    const out = await this.session.run({ pixels: packInputs(inputs) }, ['embedding']);
    return unpackRows(out.embedding);
  }

  /** Also returns each vector's norm before the sphere projection (≥ 1 by construction for LipSim). */
  async embedWithNorms(inputs: readonly Float32Array[]): Promise<{ embeddings: Float32Array[]; norms: Float32Array }> {
    if (inputs.length === 0) return { embeddings: [], norms: new Float32Array(0) };
    const out = await this.session.run({ pixels: packInputs(inputs) });
    return { embeddings: unpackRows(out.embedding), norms: (out.norm.data as Float32Array).slice() };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
