import { toEightBit } from '../model/eightBit.js';
import { modelInputToPng } from '../model/modelInputPng.js';

/**
 * δ made visible: 0.5 + gain·δ per value, with the gain that makes the largest change reach black or white
 * (grey means unchanged). The gain is returned so the page can say how much it was amplified.
 */
export async function perturbationPng(clean: Float32Array, adversarial: Float32Array): Promise<{ png: Buffer; gain: number }> {
  let largest = 0;
  for (let i = 0; i < clean.length; i++) largest = Math.max(largest, Math.abs(adversarial[i] - clean[i]));
  const gain = largest > 0 ? 0.5 / largest : 1;
  const shown = Float32Array.from(clean, (c, i) => 0.5 + gain * (adversarial[i] - c));
  return { png: await modelInputToPng(toEightBit(shown)), gain };
}
