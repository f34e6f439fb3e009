/**
 * A corpus of hostile and unusual image files, generated on the fly from one real photo (never committed).
 * `hostileImages` gives the byte-level cases (reusable for upload tests); `writeHostileCorpus` writes them
 * into a folder together with the file-system cases (odd names, links, pipes, unreadable and sparse files).
 * Each case says what a correct ingest does with it: index it, or refuse it with a reason matching `reason`
 * (ingest's wording; an upload test reuses the bytes and the outcome, and checks its own messages).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { cocoFiles } from './cocoVectors.js';

export type Expectation =
  /** Indexed under its path; with `sameEmbeddingAs`, its vector equals that case's (same pixels once decoded). */
  | { readonly outcome: 'ingested'; readonly sameEmbeddingAs?: string }
  | { readonly outcome: 'refused'; readonly reason: RegExp };

export interface HostileImage {
  readonly name: string;
  /** The file name to give it (the extension may lie on purpose). */
  readonly fileName: string;
  readonly bytes: Buffer;
  readonly description: string;
  readonly expect: Expectation;
}

export interface HostileCase {
  readonly name: string;
  /** The path as ingest reports it (lossy, with U+FFFD, for names that are not UTF-8). */
  readonly path: string;
  readonly description: string;
  readonly expect: Expectation;
}

export interface HostileOptions {
  /** The real photo every case is derived from (default: the first COCO photo). */
  readonly source?: string;
  /** URL the SVG cases reference: a test can serve it and check nothing fetched it. */
  readonly externalUrl?: string;
}

const ingested = (sameEmbeddingAs?: string): Expectation => ({ outcome: 'ingested', sameEmbeddingAs });
const refused = (reason: RegExp): Expectation => ({ outcome: 'refused', reason });

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring width×height RGB pixels, with a few KB of zero data: a decompression bomb. */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const rows = Buffer.alloc(64 * 1024);
  return Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A baseline JPEG whose frame header (SOF0) is patched to declare width×height. */
function jpegDeclaring(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; i++) {
    if (out[i] === 0xff && out[i + 1] === 0xc0) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
  }
  throw new Error('no SOF0 marker: not a baseline JPEG');
}

function svg(externalUrl: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">` +
      `<image href="${externalUrl}" width="64" height="64"/><image xlink:href="file:///etc/hostname" width="8" height="8"/>` +
      `<style>@import url("${externalUrl}.css");</style></svg>\n`,
  );
}

/** Deterministic noise (a tiny LCG), so a failing case can be reproduced. */
function noise(length: number, seed = 42): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The byte-level cases: everything that can be sent as a file's content. */
export async function hostileImages(options: HostileOptions = {}): Promise<HostileImage[]> {
  const source = options.source ?? cocoFiles(1)[0];
  const externalUrl = options.externalUrl ?? 'http://127.0.0.1:9/never-fetched.png';
  const photo = sharp(source).resize(320, 240, { fit: 'fill' });
  const jpeg = await photo.clone().jpeg({ quality: 85 }).toBuffer();
  const png = await photo.clone().png().toBuffer();
  const frames = await Promise.all([0, 120, 240].map((hue) => photo.clone().modulate({ hue }).png().toBuffer()));
  const animated = sharp(frames, { join: { animated: true } });
  // JPEG pixels are only known after decoding: the upright reference is those pixels, turned, stored losslessly.
  const exifJpeg = await photo.clone().jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer();
  const decodedExif = await sharp(exifJpeg).raw().toBuffer({ resolveWithObject: true });

  const cases: HostileImage[] = [
    { name: 'baseline', fileName: 'baseline.jpg', bytes: jpeg, description: 'an ordinary JPEG', expect: ingested() },
    { name: 'truncated-jpeg', fileName: 'truncated.jpg', bytes: jpeg.subarray(0, jpeg.length >> 1), description: 'a JPEG cut in half', expect: refused(/premature end|truncated|cannot decode/i) },
    { name: 'zero-bytes', fileName: 'empty.jpg', bytes: Buffer.alloc(0), description: 'an empty file', expect: refused(/empty/) },
    { name: 'random-bytes', fileName: 'noise.jpg', bytes: noise(4096), description: 'random bytes named .jpg', expect: refused(/unsupported image format: unrecognised content/) },
    { name: 'html-as-png', fileName: 'page.png', bytes: Buffer.from('<!DOCTYPE html><html><body><img src="x.png"></body></html>\n'), description: 'an HTML page named .png', expect: refused(/unsupported image format: an HTML page/) },
    { name: 'pdf-as-jpeg', fileName: 'document.jpg', bytes: Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n'), description: 'a PDF named .jpg', expect: refused(/PDF/) },
    { name: 'svg-as-png', fileName: 'drawing.png', bytes: svg(externalUrl), description: 'an SVG with external references, named .png', expect: refused(/SVG/) },
    { name: 'gif-header-only', fileName: 'fake.gif', bytes: Buffer.concat([Buffer.from('GIF89a'), noise(200, 7)]), description: 'a GIF signature followed by garbage', expect: refused(/cannot decode/) },
    { name: 'png-bomb', fileName: 'bomb.png', bytes: pngBomb(30_000, 30_000), description: 'a 70 KB PNG declaring 30000×30000 pixels', expect: refused(/pixel limit/) },
    { name: 'jpeg-bomb', fileName: 'bomb.jpg', bytes: jpegDeclaring(jpeg, 65_000, 65_000), description: 'a JPEG header declaring 65000×65000 pixels', expect: refused(/pixel limit/) },
    { name: 'huge-valid', fileName: 'huge.jpg', bytes: await sharp(source).resize(8000, 6000, { fit: 'fill' }).jpeg({ quality: 70 }).toBuffer(), description: 'an 8000×6000 (48 MP) photo', expect: ingested() },
    { name: 'animated-gif', fileName: 'animated.gif', bytes: await animated.clone().gif().toBuffer(), description: 'a 3-frame animated GIF (first frame indexed)', expect: ingested() },
    { name: 'animated-webp', fileName: 'animated.webp', bytes: await animated.clone().webp().toBuffer(), description: 'a 3-frame animated WebP', expect: ingested() },
    { name: 'multipage-tiff', fileName: 'pages.tiff', bytes: await animated.clone().tiff({ compression: 'lzw' }).toBuffer(), description: 'a 3-page lossless TIFF (first page indexed)', expect: ingested() },
    { name: 'first-frame', fileName: 'first-frame.png', bytes: frames[0], description: 'the first page of pages.tiff, alone', expect: ingested('multipage-tiff') },
    { name: 'cmyk-jpeg', fileName: 'cmyk.jpg', bytes: await photo.clone().toColourspace('cmyk').jpeg().toBuffer(), description: 'a CMYK JPEG', expect: ingested() },
    { name: 'png-16bit', fileName: 'deep.png', bytes: await photo.clone().toColourspace('rgb16').png().toBuffer(), description: 'a 16-bit-per-channel PNG', expect: ingested() },
    { name: 'tiff-16bit', fileName: 'deep.tif', bytes: await photo.clone().toColourspace('rgb16').tiff().toBuffer(), description: 'a 16-bit TIFF', expect: ingested() },
    { name: 'grey-jpeg', fileName: 'grey.jpg', bytes: await photo.clone().greyscale().jpeg().toBuffer(), description: 'a greyscale JPEG', expect: ingested() },
    { name: 'grey-alpha-png', fileName: 'grey-alpha.png', bytes: await photo.clone().greyscale().ensureAlpha(0.5).png().toBuffer(), description: 'a grey + alpha PNG', expect: ingested() },
    { name: 'palette-png', fileName: 'palette.png', bytes: await photo.clone().png({ palette: true, colours: 16 }).toBuffer(), description: 'a 16-colour palette PNG', expect: ingested() },
    { name: 'alpha-png', fileName: 'alpha.png', bytes: await photo.clone().ensureAlpha(0.3).png().toBuffer(), description: 'an RGBA PNG, mostly transparent', expect: ingested() },
    { name: 'alpha-webp-lossless', fileName: 'alpha.webp', bytes: await photo.clone().ensureAlpha(0.6).webp({ lossless: true }).toBuffer(), description: 'a lossless WebP with alpha', expect: ingested() },
    { name: 'upright', fileName: 'upright.png', bytes: await photo.clone().rotate(90).png().toBuffer(), description: 'the photo turned 90°, stored upright', expect: ingested() },
    { name: 'exif-rotated-png', fileName: 'exif-rotated.png', bytes: await photo.clone().png().withMetadata({ orientation: 6 }).toBuffer(), description: 'the photo stored sideways with EXIF orientation 6', expect: ingested('upright') },
    { name: 'exif-rotated-jpeg', fileName: 'exif-rotated.jpg', bytes: exifJpeg, description: 'a JPEG stored sideways with EXIF orientation 6', expect: ingested('exif-jpeg-upright') },
    { name: 'exif-jpeg-upright', fileName: 'exif-jpeg-upright.png', bytes: await sharp(decodedExif.data, { raw: decodedExif.info }).rotate(90).png().toBuffer(), description: 'the decoded pixels of exif-rotated.jpg, turned upright, lossless', expect: ingested() },
    { name: 'one-pixel', fileName: 'dot.png', bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#c83214' } }).png().toBuffer(), description: 'a 1×1 image', expect: ingested() },
    { name: 'panorama', fileName: 'panorama.jpg', bytes: await sharp(source).resize(10_000, 10, { fit: 'fill' }).jpeg().toBuffer(), description: 'a 10000×10 panorama', expect: ingested() },
    { name: 'tower', fileName: 'tower.png', bytes: await sharp(source).resize(10, 10_000, { fit: 'fill' }).png().toBuffer(), description: 'a 10×10000 strip', expect: ingested() },
    { name: 'avif', fileName: 'photo.avif', bytes: await photo.clone().avif().toBuffer(), description: 'an AVIF', expect: ingested() },
    { name: 'webp', fileName: 'photo.webp', bytes: await photo.clone().webp().toBuffer(), description: 'a lossy WebP', expect: ingested() },
    { name: 'progressive-jpeg', fileName: 'progressive.jpg', bytes: await photo.clone().jpeg({ progressive: true }).toBuffer(), description: 'a progressive JPEG', expect: ingested() },
    { name: 'trailing-garbage', fileName: 'trailing.jpg', bytes: Buffer.concat([jpeg, noise(3000, 3)]), description: 'a JPEG followed by 3000 bytes of garbage', expect: ingested() },
    { name: 'png-named-jpg', fileName: 'actually-png.jpg', bytes: png, description: 'a PNG named .jpg', expect: ingested() },
  ];
  return cases;
}

/** The byte cases, whose file names must be unique in one folder. */
function assertUniqueNames(images: readonly HostileImage[]): void {
  const names = new Set(images.map((i) => i.fileName));
  if (names.size !== images.length) throw new Error('hostile images must have distinct file names');
}

const isRoot = () => process.getuid?.() === 0;

/**
 * Writes every case into `dir` (created): the byte cases under their file names, and the file-system cases.
 * Returns one entry per path that ingest must index or report. (A folder link loop, also written, must
 * simply not make anything appear twice.)
 */
export async function writeHostileCorpus(dir: string, options: HostileOptions = {}): Promise<HostileCase[]> {
  mkdirSync(dir, { recursive: true });
  const images = await hostileImages(options);
  assertUniqueNames(images);
  const cases: HostileCase[] = images.map(({ name, fileName, bytes, description, expect }) => {
    writeFileSync(join(dir, fileName), bytes);
    return { name, path: join(dir, fileName), description, expect };
  });
  const baseline = images.find((i) => i.name === 'baseline')!.bytes;
  const add = (name: string, path: string, description: string, expect: Expectation) => cases.push({ name, path, description, expect });

  // Names: long (255 bytes, multi-byte characters), odd characters, hidden, not UTF-8.
  const longName = `${'é'.repeat(125)}.jpg`; // 250 + 4 bytes: the longest a name can be on most file systems
  writeFileSync(join(dir, longName), await sharp(baseline).flop().jpeg().toBuffer());
  add('long-name', join(dir, longName), 'a 254-byte file name', ingested());
  const oddName = '-rf \n«quoted» $(x) *.jpg';
  writeFileSync(join(dir, oddName), await sharp(baseline).flip().jpeg().toBuffer());
  add('odd-name', join(dir, oddName), 'a name with a newline, a leading dash, quotes and shell characters', ingested());
  writeFileSync(join(dir, '.hidden.jpg'), await sharp(baseline).negate().jpeg().toBuffer());
  add('hidden', join(dir, '.hidden.jpg'), 'a hidden file', ingested());
  const latin1 = Buffer.from('caf\xe9.jpg', 'latin1'); // "café.jpg" in Latin-1: not UTF-8
  writeFileSync(Buffer.concat([Buffer.from(dir + sep), latin1]), baseline);
  add('non-utf8-name', join(dir, 'caf\ufffd.jpg'), 'a file name in Latin-1', refused(/not valid UTF-8/));
  const latin1Folder = Buffer.concat([Buffer.from(dir + sep), Buffer.from('d\xe9j\xe0', 'latin1')]);
  mkdirSync(latin1Folder);
  writeFileSync(Buffer.concat([latin1Folder, Buffer.from('/inside.jpg')]), baseline);
  add('non-utf8-folder', join(dir, 'd\ufffdj\ufffd'), 'a folder name in Latin-1 holding a photo', refused(/folder name is not valid UTF-8/));

  // Same content twice: one image, two paths.
  writeFileSync(join(dir, 'copy of baseline.jpg'), baseline);
  add('duplicate', join(dir, 'copy of baseline.jpg'), 'the baseline again under another name', ingested('baseline'));

  // A folder named like an image, holding one.
  mkdirSync(join(dir, 'album.jpg'));
  writeFileSync(join(dir, 'album.jpg', 'inside.png'), await sharp(baseline).rotate(180).png().toBuffer());
  add('folder-named-jpg', join(dir, 'album.jpg', 'inside.png'), 'a photo in a folder named album.jpg', ingested());

  // Links: a file link loop, a dangling link, a folder loop (must not repeat anything).
  symlinkSync(join(dir, 'loop-b.jpg'), join(dir, 'loop-a.jpg'));
  symlinkSync(join(dir, 'loop-a.jpg'), join(dir, 'loop-b.jpg'));
  add('link-loop-a', join(dir, 'loop-a.jpg'), 'a symbolic link loop', refused(/symbolic link loop/));
  add('link-loop-b', join(dir, 'loop-b.jpg'), 'the other end of the loop', refused(/symbolic link loop/));
  symlinkSync(join(dir, 'nowhere', 'gone.jpg'), join(dir, 'dangling.jpg'));
  add('dangling-link', join(dir, 'dangling.jpg'), 'a link to nothing', refused(/broken symbolic link/));
  mkdirSync(join(dir, 'sub'));
  symlinkSync('..', join(dir, 'sub', 'up'));

  // Special and huge files.
  const fifo = join(dir, 'pipe.jpg');
  if (spawnSync('mkfifo', [fifo]).status === 0) add('fifo', fifo, 'a named pipe named .jpg (reading it would block)', refused(/named pipe/));
  writeFileSync(join(dir, 'sparse.jpg'), baseline.subarray(0, 1024));
  truncateSync(join(dir, 'sparse.jpg'), 300 * 1024 * 1024); // sparse: no disk used
  add('oversized', join(dir, 'sparse.jpg'), 'a 300 MiB file named .jpg', refused(/over the \d+ MiB limit/));
  writeFileSync(join(dir, 'icon.svg'), svg(options.externalUrl ?? 'http://127.0.0.1:9/never-fetched.png'));
  add('svg', join(dir, 'icon.svg'), 'an SVG drawing with external references', refused(/SVG/));

  // Unreadable: root reads it anyway (the ingest as another user is tested apart).
  writeFileSync(join(dir, 'locked.jpg'), await sharp(baseline).tint('#4080ff').jpeg().toBuffer());
  chmodSync(join(dir, 'locked.jpg'), 0o000);
  add('unreadable', join(dir, 'locked.jpg'), 'a file with mode 000', isRoot() ? ingested() : refused(/permission denied/));
  return cases;
}
