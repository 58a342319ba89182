import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { reject, type Rejection } from '../core/rejection.ts';

/**
 * Safe XML reading for partner feeds: size limit, no entity declarations at all (billion laughs,
 * external entities), well-formedness checked before parsing, nesting depth bounded, values kept
 * as text (`00123` stays `00123`), attributes as `@name`, element text as `#text`.
 */
export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 50 * 1024 * 1024, maxDepth: 64 };

export type XmlNode = Record<string, unknown>;

export function readXml(data: Buffer | string, limits: XmlLimits = DEFAULT_XML_LIMITS, repeat: (name: string) => boolean = () => false): { doc?: XmlNode; rejections: Rejection[] } {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > limits.maxBytes) return { rejections: [reject('GW_XML_TOO_LARGE', `${size} bytes, the limit is ${limits.maxBytes}`)] };
  let text = typeof data === 'string' ? data : data.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // A feed has no business declaring entities: refuse before any parser sees them.
  const entity = /<!ENTITY/i.exec(text);
  if (entity) {
    const line = text.slice(0, entity.index).split('\n').length;
    return { rejections: [reject('GW_XML_ENTITY_FORBIDDEN', `line ${line}`, { value: text.slice(entity.index, entity.index + 60) })] };
  }
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    return { rejections: [reject('GW_XML_MALFORMED', `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`, { segmentIndex: valid.err.line })] };
  }
  const depth = maxDepth(text);
  if (depth > limits.maxDepth) return { rejections: [reject('GW_XML_TOO_DEEP', `${depth} levels, the limit is ${limits.maxDepth}`)] };
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    textNodeName: '#text',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: { enabled: true, maxEntityCount: 0 },
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: true,
    maxNestedTags: limits.maxDepth + 1,
    isArray: (name) => repeat(name),
  } as ConstructorParameters<typeof XMLParser>[0]);
  try {
    return { doc: parser.parse(text) as XmlNode, rejections: [] };
  } catch (e) {
    return { rejections: [reject('GW_XML_MALFORMED', (e as Error).message.split('\n')[0])] };
  }
}

/** Deepest element nesting, counted on the text (comments, CDATA and declarations skipped). */
function maxDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<[!?][^>]*>|<\/[^>]*>|<[^>]*?\/>|<[^>]*>/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const t = m[0];
    if (t.startsWith('<!') || t.startsWith('<?')) continue;
    if (t.startsWith('</')) depth--;
    else if (!t.endsWith('/>')) max = Math.max(max, ++depth);
  }
  return max;
}
