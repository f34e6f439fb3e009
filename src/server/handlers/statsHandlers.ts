import { Router } from 'express';
import type { AppContext } from '../app.js';
import { modelCardDto } from '../presenters.js';

/** Corpus size, index state and the model card. */
export function statsRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/stats', async (_req, res) => {
    const corpus = await ctx.corpus.stats();
    res.json({ corpus, model: modelCardDto(ctx.card) });
  });
  return router;
}
