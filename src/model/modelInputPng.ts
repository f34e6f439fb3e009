import sharp from 'sharp';
import { isEightBit, levelsOf } from './eightBit.js';
import { INPUT_SIZE } from './preprocess.js';

/**
 * A model input on the 8-bit grid as a lossless 224×224 RGB PNG. Uploading it gives back exactly the same
 * model input: decodeImage reads the 8-bit values unchanged, and toModelInput's 224 → 224 resample is the
 * identity (test/model/modelInputPng.test.ts), so an attacked query can be downloaded and searched with again.
 */
export async function modelInputToPng(pixels: Float32Array): Promise<Buffer> {
  const plane = INPUT_SIZE * INPUT_SIZE;
  if (pixels.length !== 3 * plane) throw new RangeError(`a model input has ${3 * plane} values, not ${pixels.length}`);
  if (!isEightBit(pixels)) throw new RangeError('only a model input on the 8-bit grid (k/255) can be written losslessly');
  const levels = levelsOf(pixels);
  const interleaved = Buffer.alloc(3 * plane);
  for (let i = 0; i < plane; i++) {
    interleaved[3 * i] = levels[i];
    interleaved[3 * i + 1] = levels[plane + i];
    interleaved[3 * i + 2] = levels[2 * plane + i];
  }
  return sharp(interleaved, { raw: { width: INPUT_SIZE, height: INPUT_SIZE, channels: 3 } }).png().toBuffer();
}
