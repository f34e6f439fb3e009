import { type Response, Router } from 'express';
import { type BudgetKind, budgetPng } from '../../compare/budgetImage.js';
import { toEightBit } from '../../model/eightBit.js';
import { loadModelInput } from '../../model/preprocess.js';
import type { SearchResult } from '../../search/types.js';
import type { AppContext } from '../app.js';
import { ApiError } from '../errors.js';
import { budgetFields, parseImageId, parseSha256 } from '../params.js';
import { readRequest } from '../requestFields.js';


/** The certified top-1 radius in model-input space; there is nothing to draw when it is 0 or unbounded. */
function top1Radius(result: SearchResult): number {
  const radius = result.certificate?.modelInput.top1;
  if (radius === undefined) throw new ApiError(422, 'no_budget', 'the collection is empty: there is no certificate to draw');
  if (radius === 0) throw new ApiError(422, 'no_budget', 'the first result is not certified (radius 0): there is no budget to draw');
  if (!Number.isFinite(radius)) throw new ApiError(422, 'no_budget', 'no change of any size can change the first result: the budget is unbounded');
  return radius;
}

async function sendBudget(res: Response, pixels: Float32Array, result: SearchResult, kind: BudgetKind): Promise<void> {
  const png = await budgetPng(toEightBit(pixels), top1Radius(result), kind);
  // The radius depends on the collection, which an ingest may change: revalidate.
  res.set('Cache-Control', 'no-cache').type('image/png').send(png);
}

/** The certified top-1 budget drawn on the query's model input, for a corpus image or an upload (PNG). */
export function budgetRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/images/:id/budget.png', async (req, res) => {
    const id = parseImageId(req.params.id);
    const { kind, ...params } = readRequest(budgetFields, req.query);
    const result = await ctx.search.byId(id, params);
    const input = await loadModelInput(ctx.corpus.originalPath(await ctx.corpus.image(id)));
    await sendBudget(res, input.pixels, result, kind);
  });

  router.get('/uploads/:sha256/budget.png', async (req, res) => {
    const sha256 = parseSha256(req.params.sha256);
    const { kind, ...params } = readRequest(budgetFields, req.query);
    const result = await ctx.search.byCachedUpload(sha256, params);
    const input = await loadModelInput(ctx.search.cachedUpload(sha256).bytes);
    await sendBudget(res, input.pixels, result, kind);
  });

  return router;
}
