import Handlebars from 'handlebars';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';

export const VIEWS_DIR = join(PROJECT_ROOT, 'views');

/** Data every page gets: its title and the layout's shared bits. */
export interface PageData {
  readonly title: string;
  readonly [key: string]: unknown;
}

export type RenderPage = (view: string, data: PageData) => string;

/**
 * Compiles views/*.hbs once at start-up (partials from views/partials), each page wrapped in views/layout.hbs.
 * Handlebars escapes every `{{value}}`, so data from users or file names cannot inject markup.
 */
export function loadViews(dir = VIEWS_DIR): RenderPage {
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  const partialsDir = join(dir, 'partials');
  for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs'))) {
    hbs.registerPartial(basename(file, '.hbs'), readFileSync(join(partialsDir, file), 'utf8'));
  }
  const compile = (file: string) => hbs.compile(readFileSync(join(dir, file), 'utf8'), { strict: false });
  const layout = compile('layout.hbs');
  const pages = new Map<string, HandlebarsTemplateDelegate>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs') && f !== 'layout.hbs')) {
    pages.set(basename(file, '.hbs'), compile(file));
  }
  return (view, data) => {
    const page = pages.get(view);
    if (!page) throw new Error(`no view ${view}`);
    return layout({ ...data, body: page(data) });
  };
}

function registerHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('kib', (bytes: unknown) =>
    typeof bytes === 'number' ? `${(bytes / 1024).toFixed(bytes < 10_240 ? 1 : 0)} KiB` : '–',
  );
}

export function formatNumber(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 0.01 && abs < 1000) return value.toPrecision(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return value.toExponential(2);
}
