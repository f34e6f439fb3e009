import sharp from 'sharp';
import { BadImageError } from './badImage.js';

/**
 * What ingest checks before it lets libvips decode a file: the content must be one of the raster formats we
 * take (by its leading bytes, whatever the file is called), and its header must declare no more pixels than
 * the limit. Everything else is refused with a reason the user can act on, before any decoding: an SVG never
 * reaches an SVG renderer (it could reference other files), a decompression bomb never allocates its pixels.
 */

/** Formats ingest decodes, by signature. `heif` covers AVIF (sharp names the container). */
export type RasterFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'heif';

export const ACCEPTED_FORMATS = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

/** Images up to this many pixels are ingested: a 48- or 61-megapixel camera photo (8000×6000) fits. */
export const DEFAULT_INGEST_MAX_PIXELS = 100_000_000;

const ISO_BMFF_IMAGE_BRANDS = new Set(['avif', 'avis', 'mif1', 'msf1', 'heic', 'heix', 'hevc', 'hevx']);

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  return bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', from, Math.min(to, bytes.length));
}

/** The raster format the content is, by its signature, or undefined. */
export function sniffRasterFormat(bytes: Uint8Array): RasterFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  const head = ascii(bytes, 0, 12);
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'gif';
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return 'webp';
  if (/^(II[*+]\0|MM\0[*+])/.test(head)) return 'tiff';
  if (head.slice(4, 8) === 'ftyp' && ISO_BMFF_IMAGE_BRANDS.has(head.slice(8, 12))) return 'heif';
  return undefined;
}

/** A short description of content that is not a raster image we take, for the refusal message. */
export function describeOtherContent(bytes: Uint8Array): string {
  const text = ascii(bytes, 0, 512).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart().toLowerCase();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg|<svg)/.test(text) || (text.startsWith('<?xml') && text.includes('<svg'))) {
    return 'an SVG drawing; vector images are refused (rendering one could read other files)';
  }
  if (/^(<!doctype html|<html|<head|<body)/.test(text)) return 'an HTML page';
  if (text.startsWith('%pdf')) return 'a PDF document';
  if (startsWith(bytes, [0x42, 0x4d])) return 'a BMP image (not supported)';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'a ZIP archive';
  return 'unrecognised content';
}

export interface ProbedImage {
  readonly format: RasterFormat;
  /** Pixels of the first frame, as the header declares them. */
  readonly pixels: number;
}

/**
 * Checks a file's content before decoding. Throws BadImageError for content that is not a raster image we
 * take, an unreadable header, or more than `maxPixels` pixels.
 */
export async function probeImage(bytes: Uint8Array, maxPixels: number): Promise<ProbedImage> {
  if (bytes.length === 0) throw new BadImageError('empty file (0 bytes)');
  const format = sniffRasterFormat(bytes);
  if (!format) throw new BadImageError(`unsupported image format: ${describeOtherContent(bytes)}; ingest takes ${ACCEPTED_FORMATS}`);
  let width: number | undefined;
  let height: number | undefined;
  try {
    // Reads the header only; `pages: 1` gives the first frame's height for animations and multi-page files.
    ({ width, height } = await sharp(bytes, { pages: 1, limitInputPixels: false }).metadata());
  } catch (err) {
    throw new BadImageError(`cannot decode image: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!width || !height) throw new BadImageError(`cannot decode image: the ${format} header declares no size`);
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new BadImageError(`image is ${width}×${height} pixels, larger than the ${maxPixels}-pixel limit (a decompression bomb, or too large to index)`);
  }
  return { format, pixels };
}
