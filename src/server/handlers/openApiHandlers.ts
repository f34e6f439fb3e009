import { Router } from 'express';
import type { AppContext } from '../app.js';
import { openApiDocument } from '../openapi.js';

export function openApiRoutes(ctx: AppContext): Router {
  const router = Router();
  const document = openApiDocument(ctx.card.version.slice(0, 12));
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
