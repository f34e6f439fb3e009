import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Share of photos held out from training (by a hash of their path: stable on every machine). */
export const VALIDATION_PERCENT = 15;

export interface LabelledPhoto {
  readonly file: string;
  readonly source: 'imagenet' | 'clothing' | 'caltech' | 'voc' | 'coco';
  /**
   * wnid for ImageNet, class folder for clothing and Caltech-101, '' for VOC and COCO (multi-object scenes: see
   * cocoCategories for COCO's labels).
   */
  readonly label: string;
  readonly split: 'train' | 'val';
}

/** The training/evaluation photos under a data folder laid out like ../shared/data. */
export function listPhotos(dataDir: string): LabelledPhoto[] {
  const items: Omit<LabelledPhoto, 'split'>[] = [];
  const imagenet = join(dataDir, 'imagenet-sample');
  for (const line of readFileSync(join(imagenet, 'labels.tsv'), 'utf8').trim().split('\n').slice(1)) {
    const [file, wnid] = line.split('\t');
    items.push({ file: join(imagenet, 'images', file), source: 'imagenet', label: wnid });
  }
  for (const [folder, source] of [['clothing', 'clothing'], ['caltech101', 'caltech']] as const) {
    const root = join(dataDir, folder, 'images');
    if (!existsSync(root)) continue;
    for (const label of readdirSync(root).sort()) {
      for (const file of readdirSync(join(root, label)).sort()) items.push({ file: join(root, label, file), source, label });
    }
  }
  for (const [folder, source] of [['voc2007', 'voc'], ['coco', 'coco']] as const) {
    const root = join(dataDir, folder, 'images');
    if (!existsSync(root)) continue;
    for (const file of readdirSync(root).sort()) items.push({ file: join(root, file), source, label: '' });
  }
  return items.map((item) => {
    const h = createHash('sha256').update(relative(dataDir, item.file)).digest().readUInt32BE(0);
    return { ...item, split: h % 100 < VALIDATION_PERCENT ? 'val' : 'train' };
  });
}

/** COCO object categories per image file name, from the instance annotations (images without any are absent). */
export function cocoCategories(dataDir: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const split of ['train', 'val']) {
    const ann = JSON.parse(readFileSync(join(dataDir, 'coco', 'annotations', `instances_${split}2017.json`), 'utf8')) as {
      images: { id: number; file_name: string }[];
      annotations: { image_id: number; category_id: number }[];
    };
    const names = new Map(ann.images.map((im) => [im.id, im.file_name]));
    for (const a of ann.annotations) {
      const name = names.get(a.image_id);
      if (!name) continue;
      if (!out.has(name)) out.set(name, new Set());
      out.get(name)!.add(a.category_id);
    }
  }
  return out;
}
