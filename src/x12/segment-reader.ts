import { isAscii } from 'node:buffer';
import { reject, type Rejection } from '../core/rejection.ts';
import { looksLikeEbcdicIsa, transcodeEbcdic } from './ebcdic.ts';

/**
 * Streaming X12 segment reader over Buffers.
 *
 * Push chunks in, get whole segments out; memory is bounded by the chunk size plus one segment
 * (a segment longer than MAX_SEGMENT_BYTES is cut, so garbage cannot grow the buffer).
 *
 * Delimiters come from each ISA (element = 4th char, ISA11 repetition from 00402 on, ISA16 component,
 * the character after ISA16 the segment terminator, which may be a multi-byte UTF-8 character).
 * Quirks handled: UTF-8 BOM, CR/LF (and indentation) after terminators, newline as terminator,
 * fixed-width wrapped files (CR/LF inside segments removed and noted), EBCDIC (cp037) files,
 * several interchanges per file with different delimiters, a missing final terminator (noted).
 */

export interface Delimiters {
  element: string;
  component: string;
  /** ISA11 when it is a separator (00402 and later), otherwise null. */
  repetition: string | null;
  segment: string;
}

export interface IsaInfo {
  delimiters: Delimiters;
  /** Characters of the ISA including its terminator, wrapped line breaks not counted (106 when right). */
  length: number;
  /** Delimiter problems found while reading the ISA. */
  problems: Rejection[];
}

export interface Segment {
  tag: string;
  /** elements[0] is the tag; elements[n] is element n. */
  elements: string[];
  /** 1-based ordinal of the segment in the file. */
  index: number;
  /** Byte offset of the segment's first byte in the file. */
  offset: number;
  /** Present on ISA segments. */
  isa?: IsaInfo;
}

/**
 * A segment whose elements are split from its text on first use: tokenising stays cheap for
 * segments nobody looks into, and each segment is split at most once.
 */
class LazySegment implements Segment {
  readonly tag: string;
  private split: string[] | null = null;

  constructor(
    private readonly text: string,
    private readonly sep: string,
    readonly index: number,
    readonly offset: number,
  ) {
    const i = text.indexOf(sep);
    this.tag = i < 0 ? text : text.slice(0, i);
  }

  get elements(): string[] {
    return (this.split ??= this.text.split(this.sep));
  }
}

const MAX_SEGMENT_BYTES = 1 << 20;
const MAX_ISA_SCAN = 400;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

const isAlnumByte = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

type Slice = (this: Buffer, start: number, end: number) => string;
const proto = Buffer.prototype as unknown as { latin1Slice?: Slice; utf8Slice?: Slice };
const latin1Slice: Slice = proto.latin1Slice ?? function (this: Buffer, s, e) { return this.toString('latin1', s, e); };
const utf8Slice: Slice = proto.utf8Slice ?? function (this: Buffer, s, e) { return this.toString('utf8', s, e); };

export class X12SegmentReader {
  /** Notes (warnings) and fatal reader problems, in file order. */
  readonly notes: Rejection[] = [];
  private buf: Buffer = EMPTY;
  private base = 0;
  private index = 0;
  private started = false;
  private dead = false;
  private ebcdic = false;
  private ascii = true;
  private delims: Delimiters | null = null;
  private elementChar = '*';
  private term: Buffer = EMPTY;
  private termText = '\u0000';
  private stripCr = true;
  private stripLf = true;
  private wrappedNoted = false;
  private bytesRead = 0;

  /** Total bytes pushed so far. */
  get bytes(): number {
    return this.bytesRead;
  }

  /** True once the input was found not to be X12 at all. */
  get failed(): boolean {
    return this.dead;
  }

  private head: Buffer = EMPTY;
  private short = false;

  push(chunk: Buffer): Segment[] {
    this.bytesRead += chunk.length;
    if (!this.started) {
      // Decide BOM / EBCDIC on the first 4 bytes, however the input is chunked.
      this.head = this.head.length ? Buffer.concat([this.head, chunk]) : chunk;
      if (this.head.length < 4 && !this.short) return [];
      chunk = this.head;
      this.head = EMPTY;
      this.started = true;
      let skip = 0;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) skip = 3;
      if (looksLikeEbcdicIsa(chunk, skip)) {
        this.ebcdic = true;
        this.notes.push(reject('GW_X12_EBCDIC_TRANSCODED', undefined, { segmentIndex: 1 }));
      }
      if (skip) {
        chunk = chunk.subarray(skip);
        this.base = skip;
      }
    }
    if (this.ebcdic) chunk = transcodeEbcdic(chunk);
    if (this.dead) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.ascii = this.ebcdic || isAscii(this.buf);
    return this.drain(false);
  }

  end(): Segment[] {
    const early: Segment[] = [];
    if (!this.started && this.head.length) {
      const h = this.head;
      this.head = EMPTY;
      this.bytesRead -= h.length;
      this.short = true;
      early.push(...this.push(h));
    }
    if (this.dead) return early;
    return [...early, ...this.drain(true)];
  }

  private drain(final: boolean): Segment[] {
    const out: Segment[] = [];
    const buf = this.buf;
    const n = buf.length;
    // One latin1 decode per chunk: character i is byte i, so string positions are byte offsets.
    const text = latin1Slice.call(buf, 0, n);
    let pos = 0;
    // Next CR / LF at or after pos (amortised: each is searched for once per chunk).
    let nextLf = -1;
    let nextCr = -1;
    for (;;) {
      while (pos < n) {
        const c = text.charCodeAt(pos);
        if (c === CR || c === LF || c === 0x20 || c === 0x09 || c === 0x00) pos++;
        else break;
      }
      if (pos >= n) break;
      const c0 = text.charCodeAt(pos);
      let atIsa: boolean | null = c0 === 0x49 ? this.isIsaAt(buf, pos) : false;
      if (atIsa === null) {
        if (!final) break; // need more bytes to decide
        atIsa = false;
      }
      if (atIsa || this.delims === null) {
        if (!atIsa) {
          this.dead = true;
          this.notes.push(
            reject('GW_X12_ISA_MISSING', `found ${JSON.stringify(text.slice(pos, Math.min(n, pos + 20)))}`, {
              segmentIndex: this.index + 1,
            }),
          );
          pos = n;
          break;
        }
        const isa = this.readIsa(buf, pos, final);
        if (isa === null) break; // need more
        if (isa === 'bad') {
          this.dead = true;
          pos = n;
          break;
        }
        out.push(isa.segment);
        pos = isa.next;
        nextLf = nextCr = -1;
        continue;
      }
      let end = text.indexOf(this.termText, pos);
      if (end < 0) {
        if (!final && n - pos < MAX_SEGMENT_BYTES) break;
        end = n;
        if (final) {
          this.notes.push(reject('GW_X12_FINAL_TERMINATOR_MISSING', undefined, { segmentIndex: this.index + 1 }));
        }
      }
      let s = this.ascii ? text.slice(pos, end) : utf8Slice.call(buf, pos, end);
      let breaks = false;
      if (this.stripLf) {
        if (nextLf < pos) {
          const i = text.indexOf('\n', pos);
          nextLf = i < 0 ? n : i;
        }
        if (nextLf < end) breaks = true;
      }
      if (this.stripCr && !breaks) {
        if (nextCr < pos) {
          const i = text.indexOf('\r', pos);
          nextCr = i < 0 ? n : i;
        }
        if (nextCr < end) breaks = true;
      }
      if (breaks) {
        const cleaned = s.replace(this.stripCr && this.stripLf ? /[\r\n]/g : this.stripCr ? /\r/g : /\n/g, '');
        // Line breaks only at the end of the segment are line endings, not wrapping.
        if (cleaned !== s.replace(/[\r\n]+$/, '')) this.noteWrapped(this.index + 1);
        s = cleaned;
      }
      if (s.length) out.push(new LazySegment(s, this.elementChar, ++this.index, this.base + pos));
      pos = Math.min(n, end + this.term.length);
    }
    this.buf = pos >= n ? EMPTY : buf.subarray(pos);
    this.base += pos;
    return out;
  }

  private termAt(buf: Buffer, at: number): boolean {
    const t = this.term;
    if (at + t.length > buf.length) return false;
    for (let i = 1; i < t.length; i++) if (buf[at + i] !== t[i]) return false;
    return true;
  }

  /** true: an ISA starts here; false: something else; null: not enough bytes yet. */
  private isIsaAt(buf: Buffer, pos: number): boolean | null {
    if (buf.length - pos < 4) {
      const rest = latin1Slice.call(buf, pos, buf.length);
      return 'ISA'.startsWith(rest) ? null : false;
    }
    return buf[pos] === 0x49 && buf[pos + 1] === 0x53 && buf[pos + 2] === 0x41 && !isAlnumByte(buf[pos + 3]);
  }

  private readIsa(buf: Buffer, pos: number, final: boolean): { segment: Segment; next: number } | 'bad' | null {
    const sep = buf[pos + 3];
    let count = 0;
    let i = pos + 4;
    let wraps = 0;
    const limit = Math.min(buf.length, pos + MAX_ISA_SCAN);
    for (; i < limit; i++) {
      const b = buf[i];
      if (b === CR || b === LF) {
        wraps++;
        continue;
      }
      if (b === sep && ++count === 15) break;
    }
    const index = this.index + 1;
    if (count < 15 || i + 2 >= buf.length) {
      if (!final && buf.length < pos + MAX_ISA_SCAN) return null;
      this.notes.push(
        reject(
          count < 15 ? 'GW_X12_ISA_MALFORMED' : 'GW_X12_IEA_MISSING',
          count < 15 ? `only ${count + 1} elements found` : 'the file ends inside the ISA segment',
          { segmentIndex: index, segmentTag: 'ISA' },
        ),
      );
      return 'bad';
    }
    const componentPos = i + 1;
    let termPos = componentPos + 1;
    let termLen = 1;
    const t0 = buf[termPos];
    if (!this.ebcdic && t0 >= 0xc2 && t0 <= 0xf4) termLen = t0 >= 0xf0 ? 4 : t0 >= 0xe0 ? 3 : 2;
    if (termPos + termLen > buf.length) {
      if (!final) return null;
      termLen = buf.length - termPos;
    }
    const decode = this.ascii ? latin1Slice : utf8Slice;
    let body = latin1Slice.call(buf, pos, componentPos + 1);
    if (wraps) body = body.replace(/[\r\n]/g, '');
    const elementChar = String.fromCharCode(sep);
    const elements = body.split(elementChar);
    // ISA16 is one character even when it equals the element separator.
    if (elements.length > 17) elements.splice(16, elements.length - 16, elementChar);
    const component = elements[16] ?? '';
    const terminatorBytes = Buffer.from(buf.subarray(termPos, termPos + termLen));
    const segment = decode.call(buf, termPos, termPos + termLen);
    const problems: Rejection[] = [];
    const where = { segmentIndex: index, segmentTag: 'ISA' };
    const version = elements[12] ?? '';
    const isa11 = elements[11] ?? '';
    let repetition: string | null = null;
    if (version >= '00402' && isa11.length === 1 && !/[A-Za-z0-9 ]/.test(isa11)) repetition = isa11;
    const chars = [elementChar, component, segment];
    if (termLen === 0) problems.push(reject('GW_X12_DELIMITERS_INVALID', 'no segment terminator after ISA16', where));
    if (/[A-Za-z0-9 ]/.test(elementChar)) problems.push(reject('GW_X12_DELIMITERS_INVALID', `element separator ${JSON.stringify(elementChar)} is alphanumeric or a space`, where));
    if (component.length !== 1 || /[A-Za-z0-9 ]/.test(component)) problems.push(reject('GW_X12_DELIMITERS_INVALID', `component separator ${JSON.stringify(component)} is not a single special character`, { ...where, element: 16 }));
    if (termLen > 0 && /[A-Za-z0-9 ]/.test(segment)) problems.push(reject('GW_X12_DELIMITERS_INVALID', `segment terminator ${JSON.stringify(segment)} is alphanumeric or a space`, where));
    if (new Set(chars).size !== 3 || (repetition !== null && chars.includes(repetition))) {
      problems.push(reject('GW_X12_DELIMITERS_INVALID', `separators collide: element ${JSON.stringify(elementChar)}, component ${JSON.stringify(component)}, segment ${JSON.stringify(segment)}${repetition ? `, repetition ${JSON.stringify(repetition)}` : ''}`, where));
    }
    const delims: Delimiters = { element: elementChar, component, repetition, segment };
    this.delims = delims;
    this.elementChar = elementChar;
    this.term = terminatorBytes.length ? terminatorBytes : Buffer.from([0]);
    this.termText = latin1Slice.call(this.term, 0, this.term.length);
    this.stripCr = segment !== '\r';
    this.stripLf = segment !== '\n';
    if (wraps) this.noteWrapped(index);
    this.index = index;
    return {
      segment: {
        tag: 'ISA',
        elements,
        index,
        offset: this.base + pos,
        isa: { delimiters: delims, length: body.length + 1, problems },
      },
      next: termPos + termLen,
    };
  }

  private noteWrapped(index: number): void {
    if (this.wrappedNoted) return;
    this.wrappedNoted = true;
    this.notes.push(reject('GW_X12_LINE_WRAPPED', undefined, { segmentIndex: index }));
  }
}

/** Read a whole Buffer (tests, small files). */
export function readAllSegments(data: Buffer): { segments: Segment[]; notes: Rejection[] } {
  const r = new X12SegmentReader();
  const segments = r.push(data);
  for (const s of r.end()) segments.push(s);
  return { segments, notes: r.notes };
}
