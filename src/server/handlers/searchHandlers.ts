import express, { type Request, Router } from 'express';
import type { AppContext } from '../app.js';
import { ApiError } from '../errors.js';
import { parseImageId, parseSearchParams, parseSha256, vectorSearchBody } from '../params.js';
import { readRequest } from '../requestFields.js';
import { searchDto } from '../presenters.js';
import { webImage } from '../services/corpusService.js';
import { imageUpload } from '../upload.js';

/** The query string's fields and, for forms and JSON, the body's (the body wins). */
function fieldsOf(req: Request): Record<string, unknown> {
  const body = req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {};
  return { ...req.query, ...body };
}

export function searchParamsOf(req: Request, maxEpsilon?: number) {
  return parseSearchParams(fieldsOf(req), maxEpsilon);
}

/** The JSON search API: by upload, by corpus id, by an earlier upload, by raw vector. */
export function searchRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/search', ...imageUpload(ctx.maxUploadBytes), async (req, res) => {
    const params = searchParamsOf(req);
    res.json(searchDto(await ctx.search.byUpload(req.imageUpload!.bytes, params)));
  });

  router.post(
    '/search/vector',
    (req, _res, next) =>
      next(req.is('application/json') ? undefined : new ApiError(415, 'unsupported_media_type', 'send a JSON body {"vector": [...]}')),
    express.json({ limit: '1mb', strict: true }),
    async (req, res) => {
      const { vector, ...params } = readRequest(vectorSearchBody, fieldsOf(req));
      res.json(searchDto(await ctx.search.byVector(vector, params)));
    },
  );

  router.get('/images/:id/neighbours', async (req, res) => {
    const id = parseImageId(req.params.id);
    res.json(searchDto(await ctx.search.byId(id, parseSearchParams(req.query))));
  });

  router.get('/uploads/:sha256/neighbours', async (req, res) => {
    const sha256 = parseSha256(req.params.sha256);
    res.json(searchDto(await ctx.search.byCachedUpload(sha256, parseSearchParams(req.query))));
  });

  /** An uploaded query image, by its content address (immutable). */
  router.get('/uploads/:sha256/file', async (req, res) => {
    const cached = ctx.search.cachedUpload(parseSha256(req.params.sha256));
    const { type, rendition } = await webImage(cached.bytes, cached.format);
    res.set('Cache-Control', 'private, max-age=31536000, immutable');
    res.type(type).send(rendition ?? cached.bytes);
  });

  return router;
}
