import { z } from 'zod';

/**
 * The schema of inbound X12 mapping configs (`mappings/<partner|_shared>/<set>.in.yaml`).
 * Declarative only: element paths, a fixed set of value types and code lists, loops, HL levels,
 * item-id pairs through the crosswalk, and count checks. No code, no eval.
 */
export const VALUE_TYPES = ['string', 'decimal', 'integer', 'date', 'time', 'sscc'] as const;

const scopeHl = z.string().regex(/^[A-Z0-9]{1,2}$/, 'an HL level code such as S, O, T, P, I').optional();
const pathOrPaths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const codes = z.record(z.string(), z.string());

export const ScalarSpec = z
  .object({
    path: pathOrPaths,
    type: z.enum(VALUE_TYPES).optional(),
    required: z.boolean().optional(),
    default: z.string().optional(),
    codes: codes.optional(),
    /** When true, a value not in `codes` is rejected (997 AK4 code 7). */
    strictCodes: z.boolean().optional(),
    /** A regular expression the raw value must match (997 AK4 code 6 when it does not). */
    pattern: z.string().optional(),
    /** Values must not repeat inside the transaction set (SSCCs). */
    unique: z.boolean().optional(),
    hl: scopeHl,
  })
  .strict();

export const ConstSpec = z.object({ value: z.union([z.string(), z.number(), z.boolean(), z.null()]) }).strict();

export const ItemIdsSpec = z
  .object({
    /** First qualifier element of the qualifier/value pairs, e.g. PO106 or LIN02. */
    itemIds: z.string(),
    /** Ids in elements of their own, by the qualifier they stand for, e.g. { UP: W0703 } (read before the pairs). */
    ids: z.record(z.string().regex(/^[A-Z0-9]{1,3}$/, 'a product id qualifier such as UP, VN, SK'), z.string()).optional(),
    required: z.boolean().optional(),
  })
  .strict();

export const CollectSpec = z
  .object({
    /** Segment (optionally with conditions) whose occurrences in scope are collected, e.g. QTY. */
    collect: z.string(),
    key: z.string(),
    value: z.string(),
    type: z.enum(VALUE_TYPES).optional(),
    codes: codes,
    /** keep: unknown keys go into `other`; ignore: dropped. */
    others: z.enum(['keep', 'ignore']).optional(),
    hl: scopeHl,
  })
  .strict();

export type FieldSpec =
  | string
  | z.infer<typeof ScalarSpec>
  | z.infer<typeof ConstSpec>
  | z.infer<typeof ItemIdsSpec>
  | z.infer<typeof CollectSpec>
  | GroupSpec
  | ListSpec;

export interface GroupSpec {
  loop?: string;
  hl?: string;
  required?: boolean;
  fields: Record<string, FieldSpec>;
}

export interface ListSpec {
  each?: string;
  eachHl?: string[];
  outside?: string[];
  required?: boolean;
  fields: Record<string, FieldSpec>;
}

export const GroupSpecSchema = z
  .object({
    loop: z.string().optional(),
    hl: scopeHl,
    required: z.boolean().optional(),
    fields: z.record(z.string(), z.unknown()),
  })
  .strict()
  .refine((g) => !!g.loop || !!g.hl, 'a group needs loop (a segment loop), hl (an HL level), or both (a loop inside that level)');

export const ListSpecSchema = z
  .object({
    each: z.string().optional(),
    eachHl: z.array(z.string()).min(1).optional(),
    outside: z.array(z.string()).optional(),
    required: z.boolean().optional(),
    fields: z.record(z.string(), z.unknown()),
  })
  .strict()
  .refine((g) => !!g.each !== !!g.eachHl, 'a list needs exactly one of each or eachHl');

export const LoopDef = z
  .object({
    /** Segments that may follow the loop's first segment inside one occurrence. */
    members: z.array(z.string()).optional(),
    /** Segments that end an occurrence (besides the next occurrence). Default: SE. */
    until: z.array(z.string()).optional(),
  })
  .strict()
  .refine((l) => !(l.members && l.until), 'give members or until, not both');

export const EVENT_TYPES = [
  'inventory.snapshot',
  'inventory.adjusted',
  'order.received',
  'shipment.noticed',
  'shipment.confirmed',
  'ack.received',
  'order.changed',
  'stock.received',
] as const;

export const EventChoice = z.union([
  z.enum(EVENT_TYPES),
  z
    .object({
      path: z.string(),
      codes: z.record(z.string(), z.enum(EVENT_TYPES)),
      default: z.enum(EVENT_TYPES),
    })
    .strict(),
]);

export const InboundMappingSchema = z
  .object({
    version: z.literal(1),
    set: z.string().regex(/^\d{3}$/, 'a 3-digit transaction set id'),
    description: z.string().optional(),
    /** Another mapping this one overrides (deep merge), e.g. `_shared/850.in`. */
    extends: z.string().optional(),
    event: EventChoice,
    /** Build the HL tree (856): `hl` scopes become available. */
    hierarchy: z
      .object({ children: z.record(z.string(), z.array(z.string())).optional() })
      .strict()
      .optional(),
    loops: z.record(z.string(), LoopDef).optional(),
    /** Field specs; each is checked by the compiler with the schema of its kind. */
    fields: z.record(z.string(), z.unknown()),
    checks: z
      .array(
        z
          .object({
            /** Count of these segments in the set ... */
            count: z.string(),
            /** ... must equal this element, when the segment is present (e.g. CTT01) ... */
            equals: z.string().optional(),
            /** ... and/or must not exceed this (e.g. 10,000 LIN loops per 4010 846). */
            max: z.number().int().positive().optional(),
            /** Count (and place) them inside each instance of this loop instead of the whole set. */
            within: z.string().regex(/^[A-Z][A-Z0-9]{1,2}$/).optional(),
            /** Inside the loop they must come before these segments (e.g. N1 before QTY in an 846 LIN). */
            notAfter: z.array(z.string().regex(/^[A-Z][A-Z0-9]{1,2}$/)).optional(),
          })
          .strict()
          .refine((c) => c.equals !== undefined || c.max !== undefined || c.notAfter !== undefined, 'a check needs equals, max or notAfter')
          .refine((c) => !c.notAfter || c.within, 'notAfter needs within (the loop)'),
      )
      .optional(),
    /** Segments that must be present (997 AK3 code 3 when missing). */
    requiredSegments: z.array(z.string()).optional(),
  })
  .strict();

export type InboundMapping = z.infer<typeof InboundMappingSchema>;

export const CrosswalkSchema = z
  .object({
    version: z.literal(1),
    /** Which qualifiers to try, in order, when an item carries several ids. */
    precedence: z.array(z.string()).optional(),
    items: z.array(z.object({ sku: z.string().min(1), ids: z.record(z.string(), z.string()) }).strict()),
  })
  .strict();

export type Crosswalk = z.infer<typeof CrosswalkSchema>;
