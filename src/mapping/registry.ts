import { parse as parseYaml } from 'yaml';
import { compileMapping, deepMerge, type CompiledMapping, type MappingProblem } from './compile.ts';
import { buildCrosswalk, type CrosswalkIndex } from './crosswalk.ts';
import { CrosswalkSchema, type Crosswalk } from './schema.ts';
import { compileXmlMapping, xmlMatches, type CompiledXmlMapping } from './xml-mapping.ts';
import type { XmlNode } from '../xml/read-xml.ts';

/**
 * The active mapping configs. Files are named `<scope>/<set>.in.yaml` (or .json), where scope is a
 * partner id or `_shared`; `<scope>/crosswalk.yaml` holds item crosswalks. A partner's file
 * overrides the shared one for the same set (and may `extends: _shared/<set>.in` to change only
 * some fields). A file that does not validate is refused and the previous version stays active.
 */
export interface MappingFile {
  /** Path relative to the mappings folder, with forward slashes. */
  rel: string;
  text: string;
}

export interface MappingInfo {
  id: string;
  file: string;
  set: string;
  scope: string;
  version: number;
  sha: string;
}

const NAME = /^([A-Za-z0-9_.-]+)\/(\d{3})\.in\.(ya?ml|json)$/;
const CROSSWALK = /^([A-Za-z0-9_.-]+)\/crosswalk\.(ya?ml|json)$/;
const XML_NAME = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_-]+)\.xml\.(ya?ml|json)$/;

function parseText(rel: string, text: string): unknown {
  return rel.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export class MappingRegistry {
  private raw = new Map<string, { rel: string; doc: unknown; text: string }>();
  private compiled = new Map<string, CompiledMapping>();
  private compiledXml = new Map<string, CompiledXmlMapping>();
  private walks = new Map<string, Crosswalk>();
  private walkIndex = new Map<string, CrosswalkIndex | null>();
  private versions = new Map<string, number>();

  /** Load a whole folder's files at start-up. Returns every problem found (nothing is activated then). */
  loadAll(files: MappingFile[]): MappingProblem[] {
    return this.apply(files, { fresh: true, activate: true });
  }

  /** A file was added or changed. Invalid: refused, previous version stays active. */
  update(f: MappingFile): MappingProblem[] {
    const problems = this.apply([f], { fresh: false, activate: true });
    if (problems.length) {
      this.refusals.push({ file: f.rel, at: new Date().toISOString(), problems });
      if (this.refusals.length > 20) this.refusals.shift();
    }
    return problems;
  }

  private refusals: { file: string; at: string; problems: MappingProblem[] }[] = [];

  /** The last changes refused (newest last): what an operator's edit did not make active, and why. */
  refused(): { file: string; at: string; problems: MappingProblem[] }[] {
    return [...this.refusals];
  }

  /**
   * A registry with `f` applied over the active files, for a dry run; the active one is untouched.
   * `null` with the problems when the draft is not valid.
   */
  draft(f: MappingFile): { registry: MappingRegistry | null; problems: MappingProblem[] } {
    const r = new MappingRegistry();
    r.raw = new Map(this.raw);
    r.walks = new Map(this.walks);
    r.compiled = this.compiled;
    r.compiledXml = this.compiledXml;
    r.versions = new Map(this.versions);
    const problems = r.update(f);
    return problems.length ? { registry: null, problems } : { registry: r, problems };
  }

  /** Validate a draft without activating it. */
  validate(f: MappingFile): MappingProblem[] {
    return this.apply([f], { fresh: false, activate: false });
  }

  /** Parse and compile the files over the active set (or from scratch); activate only when all is valid. */
  private apply(files: MappingFile[], o: { fresh: boolean; activate: boolean }): MappingProblem[] {
    const raw = o.fresh ? new Map<string, { rel: string; doc: unknown; text: string }>() : new Map(this.raw);
    const walks = o.fresh ? new Map<string, Crosswalk>() : new Map(this.walks);
    const problems = files.flatMap((f) => this.parseFile(f, raw, walks));
    if (problems.length) return problems;
    const compiled = this.compileAll(raw, problems);
    const compiledXml = this.compileXml(raw, problems);
    if (problems.length || !o.activate) return problems;
    for (const [id, r] of raw) {
      if (this.raw.get(id)?.text !== r.text) this.versions.set(id, (this.versions.get(id) ?? 0) + 1);
    }
    this.raw = raw;
    this.walks = walks;
    this.compiled = compiled;
    this.compiledXml = compiledXml;
    this.walkIndex.clear();
    return [];
  }

  get(partnerId: string | null, set: string): CompiledMapping | undefined {
    return (partnerId ? this.compiled.get(`${partnerId}/${set}.in`) : undefined) ?? this.compiled.get(`_shared/${set}.in`);
  }

  /** The XML mapping that takes this document: the partner's first, then the shared ones (by name). */
  getXml(partnerId: string | null, doc: XmlNode): CompiledXmlMapping | undefined {
    const root = Object.keys(doc).find((k) => !k.startsWith('?'));
    return root === undefined ? undefined : this.xmlCandidates(partnerId, root).find((m) => xmlMatches(m, doc));
  }

  /** The XML mappings for a root element, in the order getXml tries them (the partner's, then shared). */
  xmlCandidates(partnerId: string | null, root: string): CompiledXmlMapping[] {
    const all = [...this.compiledXml.values()].filter((m) => m.root === root).sort((a, b) => a.id.localeCompare(b.id));
    return [...(partnerId ? all.filter((m) => m.id.startsWith(`${partnerId}/`)) : []), ...all.filter((m) => m.id.startsWith('_shared/'))];
  }

  /** Elements that always repeat, for every XML mapping (the parser needs them before matching). */
  xmlRepeats(): Set<string> {
    const out = new Set<string>();
    for (const m of this.compiledXml.values()) for (const r of m.repeat) out.add(r);
    return out;
  }

  crosswalk(partnerId: string | null): CrosswalkIndex | null {
    const key = partnerId ?? '';
    if (this.walkIndex.has(key)) return this.walkIndex.get(key)!;
    const list = [this.walks.get('_shared'), partnerId ? this.walks.get(partnerId) : undefined].filter((w): w is Crosswalk => !!w);
    const idx = list.length ? buildCrosswalk(...list) : null;
    this.walkIndex.set(key, idx && idx.size ? idx : null);
    return this.walkIndex.get(key)!;
  }

  list(): MappingInfo[] {
    return [...this.compiled.values(), ...[...this.compiledXml.values()].map((x) => ({ id: x.id, source: x.source, set: 'xml' }))].map((c) => {
      const [scope] = c.id.split('/');
      return { id: c.id, file: c.source, set: c.set, scope, version: this.versions.get(c.id) ?? 1, sha: hash(this.raw.get(c.id)?.text ?? '') };
    });
  }

  private parseFile(f: MappingFile, raw: Map<string, { rel: string; doc: unknown; text: string }>, walks: Map<string, Crosswalk>): MappingProblem[] {
    const m = NAME.exec(f.rel);
    const c = CROSSWALK.exec(f.rel);
    const x = XML_NAME.exec(f.rel);
    if (!m && !c && !x) return [];
    let doc: unknown;
    try {
      doc = parseText(f.rel, f.text);
    } catch (e) {
      return [{ file: f.rel, path: '(root)', message: `cannot parse: ${(e as Error).message.split('\n')[0]}` }];
    }
    if (c) {
      const r = CrosswalkSchema.safeParse(doc);
      if (!r.success) return r.error.issues.map((i) => ({ file: f.rel, path: i.path.join('.') || '(root)', message: i.message }));
      walks.set(c[1], r.data);
      return [];
    }
    raw.set(x ? `${x[1]}/${x[2]}.xml` : `${m![1]}/${m![2]}.in`, { rel: f.rel, doc, text: f.text });
    return [];
  }

  private compileXml(raw: Map<string, { rel: string; doc: unknown; text: string }>, problems: MappingProblem[]): Map<string, CompiledXmlMapping> {
    const out = new Map<string, CompiledXmlMapping>();
    for (const [id, r] of raw) {
      if (!id.endsWith('.xml')) continue;
      const c = compileXmlMapping(r.doc, r.rel, id);
      problems.push(...c.problems);
      if (c.mapping) out.set(id, c.mapping);
    }
    return out;
  }

  private compileAll(raw: Map<string, { rel: string; doc: unknown; text: string }>, problems: MappingProblem[]): Map<string, CompiledMapping> {
    const out = new Map<string, CompiledMapping>();
    for (const [id, r] of raw) {
      if (id.endsWith('.xml')) continue;
      let doc = r.doc;
      const ext = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).extends : undefined;
      if (typeof ext === 'string') {
        const base = raw.get(ext.replace(/\.(ya?ml|json)$/, ''));
        if (!base) {
          problems.push({ file: r.rel, path: 'extends', message: `no mapping ${JSON.stringify(ext)} to extend` });
          continue;
        }
        doc = deepMerge(base.doc, doc);
      }
      const c = compileMapping(doc, r.rel, id);
      problems.push(...c.problems);
      if (c.mapping) {
        const set = id.split('/')[1].slice(0, 3);
        if (c.mapping.set !== set) problems.push({ file: r.rel, path: 'set', message: `the file name says ${set} but set is ${c.mapping.set}` });
        out.set(id, c.mapping);
      }
    }
    return out;
  }
}
