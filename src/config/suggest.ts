import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

/**
 * "Did you mean" for configuration keys: the keys a (zod) schema allows at a path, and the one
 * nearest to a key it does not know, when it is near enough to be a typo.
 */

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a value at this point may be checked with (unions give several). */
function unwrap(s: z.ZodType): z.ZodType[] {
  const d = defOf(s);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return unwrap(d.innerType!);
    case 'pipe':
      return unwrap(d.in!);
    case 'lazy':
      return unwrap(d.getter!());
    case 'union':
      return d.options!.flatMap(unwrap);
    default:
      return [s];
  }
}

/** Keys the schema allows for the object at `path` (empty when there is no object there). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let here = unwrap(schema);
  for (const step of path) {
    const next: z.ZodType[] = [];
    for (const s of here) {
      const d = defOf(s);
      if (d.type === 'object' && typeof step === 'string' && d.shape![step]) next.push(d.shape![step]);
      else if (d.type === 'array' && typeof step === 'number') next.push(d.element!);
      else if (d.type === 'record') next.push(d.valueType!);
    }
    here = next.flatMap(unwrap);
  }
  return [...new Set(here.flatMap((s) => (defOf(s).type === 'object' ? Object.keys(defOf(s).shape!) : [])))];
}

/** The allowed key nearest to `key`, if it is near enough to be a typo of it. */
export function didYouMean(key: string, allowed: readonly string[]): string | null {
  if (!allowed.length) return null;
  const lower = key.toLowerCase();
  const same = allowed.find((k) => k.toLowerCase() === lower);
  if (same) return same;
  const best = closest(lower, allowed.map((k) => k.toLowerCase()));
  const found = allowed.find((k) => k.toLowerCase() === best)!;
  return distance(lower, best) <= Math.max(2, Math.floor(key.length / 3)) ? found : null;
}
