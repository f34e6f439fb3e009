import sharp from 'sharp';

/**
 * Copy-detection transforms (Copydays-style): each takes an encoded photo and returns an edited, re-encoded
 * copy. Families: crop, resize, jpeg, blur, colour, rotate, overlay. Parameters come from a seeded uniform
 * source so every run edits the same way.
 */
export type TransformFamily = 'crop' | 'resize' | 'jpeg' | 'blur' | 'colour' | 'rotate' | 'overlay';
export const TRANSFORM_FAMILIES: readonly TransformFamily[] = ['crop', 'resize', 'jpeg', 'blur', 'colour', 'rotate', 'overlay'];

type Transform = (photo: Buffer, rand: () => number) => Promise<Buffer>;

const between = (rand: () => number, lo: number, hi: number) => lo + (hi - lo) * rand();
const png = (image: sharp.Sharp) => image.png({ compressionLevel: 1 }).toBuffer();

const transforms: Record<TransformFamily, Transform> = {
  /** Removes 10–50 % of the area, at a random position. */
  async crop(photo, rand) {
    const { width = 1, height = 1 } = await sharp(photo).metadata();
    const keep = Math.sqrt(between(rand, 0.5, 0.9));
    const w = Math.max(1, Math.round(width * keep));
    const h = Math.max(1, Math.round(height * keep));
    const left = Math.floor(rand() * (width - w + 1));
    const top = Math.floor(rand() * (height - h + 1));
    return png(sharp(photo).rotate().extract({ left, top, width: w, height: h }));
  },
  /** Downscales to 25–60 % of the side. */
  async resize(photo, rand) {
    const { width = 1 } = await sharp(photo).metadata();
    return png(sharp(photo).rotate().resize({ width: Math.max(16, Math.round(width * between(rand, 0.25, 0.6))) }));
  },
  /** Re-encodes as JPEG at quality 10–50. */
  async jpeg(photo, rand) {
    return sharp(photo).rotate().jpeg({ quality: Math.round(between(rand, 10, 50)) }).toBuffer();
  },
  async blur(photo, rand) {
    return png(sharp(photo).rotate().blur(between(rand, 1, 3)));
  },
  /** Brightness 0.7–1.3, saturation 0.5–1.5, hue ±30°, contrast 0.8–1.2. */
  async colour(photo, rand) {
    const contrast = between(rand, 0.8, 1.2);
    return png(
      sharp(photo)
        .rotate()
        .modulate({ brightness: between(rand, 0.7, 1.3), saturation: between(rand, 0.5, 1.5), hue: Math.round(between(rand, -30, 30)) })
        .linear(contrast, 128 * (1 - contrast)),
    );
  },
  /** Rotates by 3–10° either way; the corners are filled grey. */
  async rotate(photo, rand) {
    const angle = between(rand, 3, 10) * (rand() < 0.5 ? -1 : 1);
    return png(sharp(photo).rotate().rotate(angle, { background: '#808080' }));
  },
  /** Pastes a logo-like block (coloured box with a ring) over 5–15 % of the area, in a random place. */
  async overlay(photo, rand) {
    const { width = 64, height = 64 } = await sharp(photo).rotate().metadata();
    const side = Math.round(Math.sqrt(width * height * between(rand, 0.05, 0.15)));
    const w = Math.min(width, side), h = Math.min(height, side);
    const hue = Math.round(rand() * 360);
    const svg = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
        `<rect width="${w}" height="${h}" fill="hsl(${hue},70%,45%)" fill-opacity="0.85"/>` +
        `<circle cx="${w / 2}" cy="${h / 2}" r="${Math.min(w, h) / 3}" fill="none" stroke="white" stroke-width="${Math.max(2, w / 12)}"/></svg>`,
    );
    const left = Math.floor(rand() * (width - w + 1));
    const top = Math.floor(rand() * (height - h + 1));
    return png(sharp(photo).rotate().composite([{ input: svg, left, top }]));
  },
};

export function applyTransform(family: TransformFamily, photo: Buffer, rand: () => number): Promise<Buffer> {
  return transforms[family](photo, rand);
}
