import express, { type Express } from 'express';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';
import type { ComparisonService } from '../compare/comparisonService.js';
import type { ModelCard } from '../model/card.js';
import type { SearchService } from '../search/searchService.js';
import { ApiError, apiErrorHandler } from './errors.js';
import { attackApiRoutes, attackPageRoutes } from './handlers/attackHandlers.js';
import { budgetRoutes } from './handlers/budgetHandlers.js';
import { imageRoutes } from './handlers/imageHandlers.js';
import { openApiRoutes } from './handlers/openApiHandlers.js';
import { pageErrorHandler, pageRoutes } from './handlers/pageHandlers.js';
import { searchRoutes } from './handlers/searchHandlers.js';
import { statsRoutes } from './handlers/statsHandlers.js';
import { securityHeaders } from './security.js';
import type { CorpusService } from './services/corpusService.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from './upload.js';
import { type RenderPage, loadViews } from './views.js';

export const PUBLIC_DIR = join(PROJECT_ROOT, 'public');

export interface AppDeps {
  readonly search: SearchService;
  readonly corpus: CorpusService;
  readonly attacks: ComparisonService;
  readonly card: ModelCard;
  readonly maxUploadBytes?: number;
  readonly views?: RenderPage;
}

/** What every handler gets: the services and the limits, resolved once. */
export interface AppContext {
  readonly search: SearchService;
  readonly corpus: CorpusService;
  readonly attacks: ComparisonService;
  readonly card: ModelCard;
  readonly maxUploadBytes: number;
  readonly render: RenderPage;
}

/** The whole HTTP surface: JSON API under /api, server-rendered pages elsewhere, static assets under /static. */
export function createApp(deps: AppDeps): Express {
  const ctx: AppContext = {
    search: deps.search,
    corpus: deps.corpus,
    attacks: deps.attacks,
    card: deps.card,
    maxUploadBytes: deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    render: deps.views ?? loadViews(),
  };
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.use('/static', express.static(PUBLIC_DIR, { index: false, dotfiles: 'ignore', maxAge: '1h' }));
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));

  const api = express.Router();
  api.use(searchRoutes(ctx));
  api.use(imageRoutes(ctx));
  api.use(budgetRoutes(ctx));
  api.use(statsRoutes(ctx));
  api.use(attackApiRoutes(ctx));
  api.use(openApiRoutes(ctx));
  api.use((_req, _res, next) => next(new ApiError(404, 'not_found', 'no such API route')));
  api.use(apiErrorHandler);
  app.use('/api', api);

  app.use(attackPageRoutes(ctx));
  app.use(pageRoutes(ctx));
  app.use(pageErrorHandler(ctx));
  return app;
}
