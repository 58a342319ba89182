import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root (where package.json, grammars/ and src/ are), found from this module upward:
 * the same from the TypeScript sources and from the bundle bin/gateway.js builds into .build/.
 */
export const PROJECT_ROOT = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'grammars'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no project root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();
