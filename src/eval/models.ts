import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelName } from '../model/card.js';
import { Embedder, packInputs, unpackRows } from '../model/embedder.js';
import { loadModelInput } from '../model/preprocess.js';

/** Anything that turns model inputs into vectors: our models, the teacher, the floors. */
export interface VectorModel {
  readonly label: string;
  /**
   * Set-centred models give raw vectors that only mean something relative to the set they are compared in: each
   * section maps them with `inGallerySpace` before ranking. The others give unit vectors.
   */
  readonly setCentred?: boolean;
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

/**
 * The map a section applies to a model's vectors before ranking them against `gallery`: the identity for
 * unit-vector models; for set-centred ones, subtracting the gallery's mean (queries too), then L2-normalising.
 */
export function inGallerySpace(model: VectorModel, gallery: readonly Float32Array[]): (v: Float32Array) => Float32Array {
  if (!model.setCentred) return (v) => v;
  const centre = new Float32Array(gallery[0]?.length ?? 0);
  for (const v of gallery) v.forEach((x, j) => (centre[j] += x / gallery.length));
  return (v) => {
    const centred = v.map((x, j) => x - centre[j]);
    const n = Math.hypot(...centred) || 1;
    return centred.map((x) => x / n);
  };
}

/** Decodes encoded photos (buffers or paths) once per batch and embeds them with every model: one list per model. */
export async function embedPhotosWithEach(
  models: readonly VectorModel[],
  photos: readonly (Buffer | string)[],
  batch = 32,
): Promise<Float32Array[][]> {
  const out = models.map((): Float32Array[] => []);
  for (let i = 0; i < photos.length; i += batch) {
    const inputs = await Promise.all(photos.slice(i, i + batch).map(async (p) => (await loadModelInput(p)).pixels));
    for (const [m, model] of models.entries()) out[m].push(...(await model.embed(inputs)));
  }
  return out;
}

/** Decodes and embeds encoded photos (buffers or paths) in batches. */
export async function embedPhotos(model: VectorModel, photos: readonly (Buffer | string)[], batch = 32): Promise<Float32Array[]> {
  return (await embedPhotosWithEach([model], photos, batch))[0];
}
