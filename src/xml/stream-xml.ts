import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser } from 'saxes';
import { reject, type Rejection } from '../core/rejection.ts';
import type { XmlLimits, XmlNode } from './read-xml.ts';

/**
 * Streaming XML reading (saxes, a strict XML 1.0 parser) for partner feeds, in bounded memory:
 * the document is fed in 64 KiB pieces and built into the same tree shape the mappings read
 * (`@name` attributes, `#text` text, repeated children as arrays, namespace prefixes dropped,
 * values kept as text), except that elements a caller `prune`s are handed to it as each closes
 * and are not kept: a 45 MB feed of 300,000 items holds one item at a time.
 *
 * Refused with a code, never thrown: entity declarations (billion laughs, XXE), nesting deeper
 * than the limit, anything that is not well-formed XML.
 */
export interface StreamHandlers {
  /** An element opens (`path`: element names from the root, the root first); `'stop'` ends the reading there (a probe). */
  open?(path: readonly string[], attrs: Readonly<Record<string, string>>): void | 'stop';
  /** Should this element, once closed, be handed to `record` and left out of the tree? */
  prune?(path: readonly string[]): boolean;
  record?(path: readonly string[], node: unknown, root: XmlNode): void;
}

interface Frame {
  name: string;
  node: XmlNode;
  text: string;
  hasAttrs: boolean;
  hasChildren: boolean;
}

const PIECE = 64 * 1024;

class StopEarly extends Error {}

class Stop extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.message);
  }
}

const local = (name: string) => {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
};

/** Bytes in memory, or a file read in pieces (the stored document: never held whole). */
export type XmlSource = Buffer | { path: string };

function* pieces(src: XmlSource): Generator<Buffer> {
  if (Buffer.isBuffer(src)) {
    for (let i = 0; i < src.length; i += PIECE) yield src.subarray(i, Math.min(src.length, i + PIECE));
    return;
  }
  const fd = openSync(src.path, 'r');
  try {
    const buf = Buffer.allocUnsafe(PIECE);
    for (let n = readSync(fd, buf, 0, PIECE, null); n > 0; n = readSync(fd, buf, 0, PIECE, null)) yield buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function sizeOf(src: XmlSource): number {
  return Buffer.isBuffer(src) ? src.length : statSync(src.path).size;
}

/**
 * Read `src` in pieces; returns the (pruned) tree as `{ [root]: node }`, or the rejection.
 * `repeat`: element names that are arrays even when they occur once.
 */
export function streamXml(src: XmlSource, limits: XmlLimits, repeat: (name: string) => boolean, h: StreamHandlers = {}): { doc?: XmlNode; rejections: Rejection[] } {
  const size = sizeOf(src);
  if (size > limits.maxBytes) return { rejections: [reject('GW_XML_TOO_LARGE', `${size} bytes, the limit is ${limits.maxBytes}`)] };
  const parser = new SaxesParser({ position: true });
  const stack: Frame[] = [];
  const path: string[] = [];
  let doc: XmlNode | undefined;
  let rootNode: XmlNode | undefined;

  parser.on('doctype', (text) => {
    // A feed has no business declaring entities: refused before anything could expand them.
    const at = /<!ENTITY/i.exec(text);
    if (at) {
      const after = text.slice(at.index).split('\n').length - 1;
      throw new Stop(reject('GW_XML_ENTITY_FORBIDDEN', `line ${parser.line - after}`, { value: text.slice(at.index, at.index + 60) }));
    }
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= limits.maxDepth) throw new Stop(reject('GW_XML_TOO_DEEP', `more than ${limits.maxDepth} levels (line ${parser.line})`));
    const name = local(tag.name);
    const node: XmlNode = {};
    let hasAttrs = false;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes as Record<string, string>)) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      const n = local(k);
      node[`@${n}`] = v;
      attrs[n] = v;
      hasAttrs = true;
    }
    stack.push({ name, node, text: '', hasAttrs, hasChildren: false });
    path.push(name);
    if (stack.length === 1) {
      rootNode = node;
      doc = { [name]: node };
    }
    if (h.open?.(path, attrs) === 'stop') throw new StopEarly();
  });
  const onText = (t: string) => {
    const top = stack.at(-1);
    if (top) top.text += t.trim();
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const f = stack.pop()!;
    // A leaf without attributes is its text; otherwise an object with #text beside the rest.
    let value: unknown;
    if (!f.hasAttrs && !f.hasChildren) value = f.text;
    else {
      if (f.text !== '') f.node['#text'] = f.text;
      value = f.node;
    }
    const parent = stack.at(-1);
    if (!parent) {
      doc = { [f.name]: value };
      path.pop();
      return;
    }
    if (h.prune?.(path)) {
      h.record?.(path, value, rootNode!);
      parent.hasChildren = true;
      path.pop();
      return;
    }
    path.pop();
    parent.hasChildren = true;
    const prev = parent.node[f.name];
    if (prev === undefined) parent.node[f.name] = repeat(f.name) ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else parent.node[f.name] = [prev, value];
  });

  const decoder = new StringDecoder('utf8');
  try {
    let first = true;
    for (let piece of pieces(src)) {
      // A byte order mark is not content.
      if (first && piece[0] === 0xef && piece[1] === 0xbb && piece[2] === 0xbf) piece = piece.subarray(3);
      first = false;
      parser.write(decoder.write(piece));
    }
    const rest = decoder.end();
    if (rest) parser.write(rest);
    parser.close();
  } catch (e) {
    if (e instanceof StopEarly) return { doc, rejections: [] };
    if (e instanceof Stop) return { rejections: [e.rejection] };
    // saxes says "line:column: what"; said here as the other XML rejections say it.
    const msg = String((e as Error).message).split('\n')[0].replace(/^[^:]*:\d+:\d+: /, '').slice(0, 300);
    return { rejections: [reject('GW_XML_MALFORMED', `${msg} (line ${parser.line}, column ${parser.column})`, { segmentIndex: parser.line })] };
  }
  if (!doc) return { rejections: [reject('GW_XML_MALFORMED', 'no root element')] };
  return { doc, rejections: [] };
}
