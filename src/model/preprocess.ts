import sharp from 'sharp';
import { type AxisResample, axisNormUpperBound, axisResample, resampleToPlanar } from './resize.js';

/** Model input side: every model in this project takes 3×INPUT_SIZE×INPUT_SIZE RGB in [0, 1]. */
export const INPUT_SIZE = 224;

/** Largest image (in pixels) we decode: bounds memory and rejects decompression bombs. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/**
 * Photos whose shorter side is at least REDUCE_FROM pixels are decoded reduced, shorter side REDUCED_SIDE (twice
 * the model input, so the final resample still averages over every pixel it drops): the JPEG decoder then
 * works in the DCT domain at 1/2, 1/4 or 1/8 size (shrink-on-load) and a 12-megapixel phone photo costs about a
 * tenth of its full decode. The decoded image is what certificates in "image pixels" speak of
 * (docs/certificates.md §6); for smaller photos it is the photo itself, as before. store/imageStore.ts
 * applies the same rule to recorded sizes (clearVectorsOfImagesFrom).
 */
export const REDUCED_SIDE = 2 * INPUT_SIZE;
export const REDUCE_FROM = 2 * REDUCED_SIDE;
/** Names the decoding above; an index records it, so that vectors of two decodings are never mixed. */
export const DECODER = `reduce-from-${REDUCE_FROM}-to-${REDUCED_SIDE}`;

const isReducedOnLoad = (width: number, height: number) => Math.min(width, height) >= REDUCE_FROM;

export interface DecodedImage {
  /** Interleaved 8-bit sRGB, EXIF orientation applied, alpha flattened onto white. */
  readonly rgb: Uint8Array;
  /** Size of `rgb`: the photo's own size, or its reduced size. */
  readonly width: number;
  readonly height: number;
  /** The photo's own size, oriented. */
  readonly photo: { readonly width: number; readonly height: number };
  /** Container format as sharp reports it (jpeg, png, webp, gif, tiff, heif, ...). */
  readonly format: string;
}

export interface ModelInput {
  /** Planar 3×224×224 float pixels in [0, 1]. */
  readonly pixels: Float32Array;
  /**
   * Sound upper bound on ‖R‖₂ of the linear map from the decoded image's pixels (scaled to [0, 1]) to `pixels`:
   * a perturbation of norm ρ in the image moves the model input by at most ρ·resizeNorm.
   */
  readonly resizeNorm: number;
}

/** Decodes any still image sharp understands (first frame of animations), oriented, sRGB, no alpha. */
export async function decodeImage(input: Buffer | string, maxPixels = DEFAULT_MAX_PIXELS): Promise<DecodedImage> {
  try {
    const image = sharp(input, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 });
    const meta = await image.metadata();
    if (!meta.format || !meta.width || !meta.height) throw new ImageDecodeError('not a recognised image');
    const quarterTurn = (meta.orientation ?? 1) >= 5; // EXIF orientations 5–8 swap width and height
    const header = quarterTurn ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
    const reduced = isReducedOnLoad(header.width, header.height);
    const oriented = image.rotate();
    // fit 'outside': the shorter side becomes REDUCED_SIDE; a triangle kernel, widened by the factor, averages.
    const decoded = reduced ? oriented.resize(REDUCED_SIDE, REDUCED_SIDE, { fit: 'outside', kernel: 'linear' }) : oriented;
    const { data, info } = await decoded
      .toColourspace('srgb')
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError(`unexpected channel count ${info.channels}`);
    return {
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      // Decoded at its own size, the photo's size is what was decoded (one frame of a multi-page file).
      photo: reduced ? header : { width: info.width, height: info.height },
      format: meta.format,
    };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) {
      throw new ImageDecodeError(`image is larger than the ${maxPixels}-pixel limit`);
    }
    throw new ImageDecodeError(`cannot decode image: ${message.split('\n')[0]}`);
  }
}

/** Centre square crop + float resample to the model input, with the operator norm of that linear map. */
export function toModelInput(image: DecodedImage): ModelInput {
  const side = Math.min(image.width, image.height);
  const rows = axisResample(image.height, side, INPUT_SIZE);
  const cols = axisResample(image.width, side, INPUT_SIZE);
  const pixels = resampleToPlanar(image.rgb, image.width, rows, cols);
  return { pixels, resizeNorm: resizeNormCached(rows, cols) };
}

export async function loadModelInput(input: Buffer | string, maxPixels = DEFAULT_MAX_PIXELS): Promise<ModelInput> {
  return toModelInput(await decodeImage(input, maxPixels));
}

// The norm depends only on (height, width), and photo collections repeat a few sizes.
const normCache = new Map<string, number>();
function resizeNormCached(rows: AxisResample, cols: AxisResample): number {
  const key = `${rows.inSize}x${cols.inSize}`;
  let norm = normCache.get(key);
  if (norm === undefined) {
    norm = axisNormUpperBound(rows) * axisNormUpperBound(cols);
    if (normCache.size > 1000) normCache.clear();
    normCache.set(key, norm);
  }
  return norm;
}
