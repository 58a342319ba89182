import type { Rejection } from '../core/rejection.ts';
import { streamXml } from './stream-xml.ts';

/**
 * Safe XML reading for partner feeds: size limit, no entity declarations at all (billion laughs,
 * external entities), well-formedness, nesting depth bounded, values kept as text (`00123` stays
 * `00123`), attributes as `@name`, element text as `#text`. The whole tree (for the mapping
 * preview and documents whose mapping cannot stream); translate-xml streams (stream-xml.ts).
 */
export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 50 * 1024 * 1024, maxDepth: 64 };

export type XmlNode = Record<string, unknown>;

export function readXml(data: Buffer | string, limits: XmlLimits = DEFAULT_XML_LIMITS, repeat: (name: string) => boolean = () => false): { doc?: XmlNode; rejections: Rejection[] } {
  return streamXml(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, limits, repeat);
}
