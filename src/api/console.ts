import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT } from '../core/paths.ts';
import type Koa from 'koa';

/**
 * The operator console: static files (src/console: one HTML page, one ES module, one stylesheet;
 * no build step) and uPlot for the charts, served on the API's port under /console. The page
 * reads the JSON API; actions (replay, release, resend) send the bearer token the operator
 * pasted, so it is read-only without one, exactly as the API is.
 */
const DIR = path.join(PROJECT_ROOT, 'src', 'console');
const require = createRequire(path.join(PROJECT_ROOT, 'package.json'));

const FILES: Record<string, { file: string; type: string }> = {
  '/console': { file: path.join(DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/console/': { file: path.join(DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: path.join(DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/console/style.css': { file: path.join(DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/console/vendor/uPlot.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/console/vendor/uPlot.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function isConsolePath(p: string): boolean {
  return p in FILES;
}

export function consoleMiddleware(): Koa.Middleware {
  const cache = new Map<string, Buffer>();
  return async (ctx, next) => {
    const f = FILES[ctx.path];
    if (!f || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (ctx.path === '/console') return ctx.redirect('/console/');
    let body = cache.get(f.file);
    if (!body) {
      body = readFileSync(f.file);
      cache.set(f.file, body);
    }
    ctx.type = f.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    ctx.body = body;
  };
}
