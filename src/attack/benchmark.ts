import type { ModelName } from '../model/card.js';
import { GradientModel } from '../model/gradient.js';
import type { Device } from '../model/session.js';
import { runPgd } from './pgd.js';
import type { AttackNorm } from './request.js';

export interface PgdBenchmarkOptions {
  /** The query as a model input (e.g. loadModelInput(photo).pixels). */
  readonly pixels: Float32Array;
  readonly model?: ModelName;
  readonly norm?: AttackNorm;
  /** Default 0.5 (l2) or 2/255 (l∞). */
  readonly epsilon?: number;
  readonly steps?: number;
  /** onnxruntime threads; default 1, as in an attack worker. */
  readonly threads?: number;
  readonly device?: Device;
  readonly modelsDir?: string;
}

export interface PgdBenchmark {
  readonly model: ModelName;
  readonly norm: AttackNorm;
  readonly steps: number;
  readonly threads: number;
  /** Wall time of the attack (model already open): steps + 2 gradient runs and the projections. */
  readonly seconds: number;
  readonly msPerStep: number;
}

/** Times one untargeted PGD attack of `steps` steps (default 50) without early stopping, in this thread. */
export async function benchmarkPgd(options: PgdBenchmarkOptions): Promise<PgdBenchmark> {
  const { pixels, model = 'lipsim', norm = 'l2', steps = 50, threads = 1 } = options;
  const epsilon = options.epsilon ?? (norm === 'l2' ? 0.5 : 2 / 255);
  const gradientModel = await GradientModel.open({ model, threads, device: options.device ?? 'cpu', modelsDir: options.modelsDir });
  try {
    const started = performance.now();
    await runPgd(gradientModel, { model, pixels, norm, epsilon, steps, patience: 0, goal: { kind: 'untargeted' } });
    const seconds = (performance.now() - started) / 1000;
    return { model, norm, steps, threads, seconds, msPerStep: (seconds * 1000) / steps };
  } finally {
    await gradientModel.close();
  }
}
