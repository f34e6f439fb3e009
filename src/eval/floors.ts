import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PROJECT_ROOT } from '../config.js';
import { packInputs, unpackRows } from '../model/embedder.js';
import { INPUT_SIZE } from '../model/preprocess.js';
import type { VectorModel } from './models.js';

/**
 * Floors: what a trained model must beat in the quality sections. A 16×16 thumbnail compares colour layouts only;
 * an untrained LipSim shows what the architecture gives before any training.
 */
export const THUMBNAIL_FLOOR = 'thumbnail 16×16 (mean-centred)';
export const RANDOM_INIT_FLOOR = 'LipSim untrained (random init)';

const THUMBNAIL_SIDE = 16;
const BLOCK = INPUT_SIZE / THUMBNAIL_SIDE;

/**
 * 14×14 block averages of the 224×224 model input: a 3×16×16 = 768-d vector. Set-centred, because every raw
 * thumbnail shares a large mean-grey component that would make all photos look alike.
 */
export function thumbnailFloor(): VectorModel {
  return {
    label: THUMBNAIL_FLOOR,
    setCentred: true,
    async embed(inputs) {
      return inputs.map((pixels) => {
        const out = new Float32Array(3 * THUMBNAIL_SIDE * THUMBNAIL_SIDE);
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < INPUT_SIZE; y++) {
            const row = (c * THUMBNAIL_SIDE + Math.floor(y / BLOCK)) * THUMBNAIL_SIDE;
            const base = (c * INPUT_SIZE + y) * INPUT_SIZE;
            for (let x = 0; x < INPUT_SIZE; x++) out[row + Math.floor(x / BLOCK)] += pixels[base + x] / (BLOCK * BLOCK);
          }
        }
        return out;
      });
    },
    close: async () => {},
  };
}

export type OpenedFloor = { readonly model: VectorModel; readonly version: string } | { readonly absent: string };

/**
 * The untrained network of LipSim's architecture (seeded), exported on first use by scripts/train/export_init.py
 * from the architecture in the model card and kept under cache/floors/ (it is a function of the architecture and
 * the seed alone, so it is not kept in git); or why it is absent. Its version is the file's sha256.
 */
export async function openRandomInitFloor(modelsDir: string): Promise<OpenedFloor> {
  const card = join(modelsDir, 'lipsim.json');
  const architecture = JSON.stringify(JSON.parse(readFileSync(card, 'utf8')).architecture);
  const tag = createHash('sha256').update(architecture).digest('hex').slice(0, 16);
  const file = join(PROJECT_ROOT, 'cache', 'floors', `lipsim-init-${tag}.onnx`);
  if (!existsSync(file)) {
    try {
      execFileSync(process.env.PYTHON ?? '/usr/bin/python3', ['scripts/train/export_init.py', '--card', card, '--out', file], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
      return { absent: `could not export the untrained network (PyTorch needed): ${stderr || (err as Error).message}` };
    }
  }
  const bytes = readFileSync(file);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  return {
    version: createHash('sha256').update(bytes).digest('hex'),
    model: {
      label: RANDOM_INIT_FLOOR,
      async embed(inputs) {
        const vectors = unpackRows((await session.run({ pixels: packInputs(inputs) }, ['embedding'])).embedding);
        // Rankings assume unit vectors: a wrongly exported file must fail here, not skew the figures.
        if (vectors.some((v) => Math.abs(Math.hypot(...v) - 1) > 1e-3)) throw new Error(`${file} does not output unit vectors`);
        return vectors;
      },
      close: () => session.release(),
    },
  };
}
