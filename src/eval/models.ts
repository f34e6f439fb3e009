import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelName } from '../model/card.js';
import { Embedder, packInputs, unpackRows } from '../model/embedder.js';
import { loadModelInput } from '../model/preprocess.js';

/** Anything that turns model inputs into unit vectors: our models, or the teacher. */
export interface VectorModel {
  readonly label: string;
  embed(inputs: readonly Float32Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** The ImageNet MobileNet v2 teacher (../shared/teacher), L2-normalised: the quality reference. */
export async function openTeacher(teacherDir: string): Promise<VectorModel> {
  const session = await ort.InferenceSession.create(join(teacherDir, 'mobilenet_v2.onnx'), { graphOptimizationLevel: 'all' });
  return {
    label: 'teacher (MobileNet v2)',
    async embed(inputs) {
      const out = await session.run({ pixels: packInputs(inputs) });
      return unpackRows(out.embedding).map((v) => {
        const n = Math.hypot(...v) || 1;
        return v.map((x) => x / n);
      });
    },
    close: () => session.release(),
  };
}

export async function openStudent(name: ModelName, modelsDir?: string): Promise<VectorModel> {
  const embedder = await Embedder.open({ model: name, device: 'cpu', ...(modelsDir ? { modelsDir } : {}) });
  return { label: name, embed: (x) => embedder.embed(x), close: () => embedder.close() };
}

/** Decodes and embeds encoded photos (buffers or paths) in batches. */
export async function embedPhotos(model: VectorModel, photos: readonly (Buffer | string)[], batch = 32): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < photos.length; i += batch) {
    const inputs = await Promise.all(photos.slice(i, i + batch).map(async (p) => (await loadModelInput(p)).pixels));
    out.push(...(await model.embed(inputs)));
  }
  return out;
}
