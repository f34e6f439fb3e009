/**
 * The 8-bit grid of the model input: values k/255 exactly as the upload path computes them (float32 of
 * k/255). An image file stores 8-bit values, so only a model input on this grid can be handed out as a file
 * and read back unchanged (see modelInputPng.ts).
 */

export const GREY_LEVELS = 255;

/** The model-input value of grey level k, bit for bit what resampleToPlanar writes for an unresized pixel. */
export function gridValue(level: number): number {
  return Math.fround(level / GREY_LEVELS);
}

/** The grey level nearest to each value (values in [0, 1]). */
export function levelsOf(pixels: Float32Array): Uint8Array {
  return Uint8Array.from(pixels, (v) => Math.min(GREY_LEVELS, Math.max(0, Math.round(v * GREY_LEVELS))));
}

/** The nearest model input on the grid. */
export function toEightBit(pixels: Float32Array): Float32Array {
  return Float32Array.from(levelsOf(pixels), gridValue);
}

export function isEightBit(pixels: Float32Array): boolean {
  for (const v of pixels) if (!(v >= 0 && v <= 1) || v !== gridValue(Math.round(v * GREY_LEVELS))) return false;
  return true;
}
