import { type Response, Router } from 'express';
import type { ImageRecord } from '../../store/types.js';
import type { AppContext } from '../app.js';
import { parseImageId, parsePage } from '../params.js';
import { imageDto } from '../presenters.js';
import { webImage } from '../services/corpusService.js';

/**
 * Content-addressed URLs (`?v=<sha256>` matching the record) never change meaning: cache them forever.
 * Without the hash the same URL could show other content after a re-ingest, so browsers revalidate.
 */
function setImageCaching(res: Response, record: ImageRecord, version: unknown): void {
  res.set('ETag', `"${record.sha256}"`);
  res.set('Cache-Control', version === record.sha256 ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/** Corpus images: listing, records, original files and thumbnails, all addressed by id only. */
export function imageRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/images', async (req, res) => {
    const { page, perPage } = parsePage(req.query);
    const result = await ctx.corpus.page(page, perPage);
    res.json({ page: result.page, pages: result.pages, total: result.total, images: result.images.map(imageDto) });
  });

  router.get('/images/:id', async (req, res) => {
    res.json(imageDto(await ctx.corpus.image(parseImageId(req.params.id))));
  });

  router.get('/images/:id/file', async (req, res) => {
    const record = await ctx.corpus.image(parseImageId(req.params.id));
    const path = ctx.corpus.originalPath(record);
    setImageCaching(res, record, req.query.v);
    if (req.fresh) return void res.status(304).end();
    const { type, rendition } = await webImage(path, record.format);
    if (rendition) return void res.type(type).send(rendition);
    // The path comes from the store, never from the request; sendFile streams it with range support.
    await new Promise<void>((resolve, reject) =>
      res.sendFile(path, { headers: { 'Content-Type': type }, dotfiles: 'allow', cacheControl: false, etag: false, lastModified: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  });

  router.get('/images/:id/thumbnail', async (req, res) => {
    const record = await ctx.corpus.image(parseImageId(req.params.id));
    setImageCaching(res, record, req.query.v);
    if (req.fresh) return void res.status(304).end();
    res.type('image/webp').send(await ctx.corpus.thumbnail(record));
  });

  return router;
}
