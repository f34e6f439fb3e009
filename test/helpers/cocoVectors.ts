import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Embedder } from '../../src/model/embedder.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { COCO_DIR } from './paths.js';

/** The first `n` COCO photos (sorted by name), as absolute paths. */
export function cocoFiles(n: number): string[] {
  return readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg')).sort().slice(0, n).map((f) => join(COCO_DIR, f));
}

/** Real LipSim embeddings of the first `n` COCO photos. */
export async function embedCoco(n: number): Promise<{ files: string[]; vectors: Float32Array[]; modelVersion: string }> {
  const files = cocoFiles(n);
  const embedder = await Embedder.open({ device: 'cpu' });
  try {
    const inputs = await Promise.all(files.map(async (f) => (await loadModelInput(f)).pixels));
    const vectors: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i += 16) vectors.push(...(await embedder.embed(inputs.slice(i, i + 16))));
    return { files, vectors, modelVersion: embedder.card.version };
  } finally {
    await embedder.close();
  }
}
