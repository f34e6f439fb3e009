import { benchmarkPgd } from '../attack/index.js';
import { loadModelInput } from '../model/preprocess.js';
import { type Repeated, repeated } from './stats.js';

export interface PgdTime {
  readonly steps: number;
  readonly norm: 'l2';
  /** onnxruntime threads of the attack (one, as in an attack worker). */
  readonly threads: number;
  readonly seconds: Repeated;
  readonly msPerStep: number;
  readonly targetSeconds: number;
  readonly meetsTarget: boolean;
}

export const PGD_STEPS = 50;
export const PGD_TARGET_SECONDS = 10;

/** Wall time of a 50-step untargeted ℓ₂ PGD attack on a real photo (benchmarkPgd: model opened outside the timing). */
export async function measurePgd(options: { photo: string; repeats: number; modelsDir?: string }): Promise<PgdTime> {
  const { pixels } = await loadModelInput(options.photo);
  const runs: number[] = [];
  let threads = 1;
  for (let run = 0; run < options.repeats; run++) {
    const result = await benchmarkPgd({ pixels, steps: PGD_STEPS, modelsDir: options.modelsDir });
    runs.push(result.seconds);
    threads = result.threads;
  }
  const seconds = repeated(runs);
  return {
    steps: PGD_STEPS,
    norm: 'l2',
    threads,
    seconds,
    msPerStep: (seconds.median * 1000) / PGD_STEPS,
    targetSeconds: PGD_TARGET_SECONDS,
    meetsTarget: seconds.median <= PGD_TARGET_SECONDS,
  };
}
