/**
 * The one registry of gateway error codes. Every rejection, API error and log line that reports a
 * problem uses a code from here. `docs/errors.md` is kept in sync by a test.
 *
 * x12 says how the problem is reported to the partner:
 * - ta1: TA105 interchange note code (the interchange is rejected)
 * - ak9: AK905 functional group error code (the group is rejected)
 * - ak5: AK502 transaction set error code (the set is rejected)
 * - ak3: AK304 segment error code; ak4: AK403 element error code (inside a rejected set)
 */
export type Severity = 'error' | 'warning';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info';

export interface ErrorDef {
  message: string;
  http: number;
  level: LogLevel;
  severity: Severity;
  x12?: { ta1?: string; ak9?: string; ak5?: string; ak3?: string; ak4?: string };
}

const def = (
  message: string,
  http: number,
  level: LogLevel,
  severity: Severity,
  x12?: ErrorDef['x12'],
): ErrorDef => ({ message, http, level, severity, x12 });

export const ERRORS = {
  // File and format
  GW_FILE_TOO_LARGE: def('The file is larger than the configured limit (inbound.maxBytes); it is kept in error/', 413, 'warn', 'error'),
  GW_FILE_EMPTY: def('The file is empty', 422, 'warn', 'error'),
  GW_FORMAT_UNKNOWN: def('The file is neither X12 nor XML', 422, 'warn', 'error'),

  // XML feeds
  GW_XML_MALFORMED: def('The XML document is not well-formed', 422, 'warn', 'error'),
  GW_XML_ENTITY_FORBIDDEN: def('The XML document declares entities (refused: entity expansion and external entities)', 422, 'warn', 'error'),
  GW_XML_TOO_LARGE: def('The XML document is larger than the limit', 413, 'warn', 'error'),
  GW_XML_TOO_DEEP: def('The XML document is nested deeper than the limit', 422, 'warn', 'error'),
  GW_XML_NO_MAPPING: def('No XML mapping config matches this document', 422, 'warn', 'error'),

  // Interchange (ISA/IEA)
  GW_X12_ISA_MISSING: def('The interchange does not start with an ISA segment', 422, 'warn', 'error', { ta1: '024' }),
  GW_X12_ISA_MALFORMED: def('The ISA segment is malformed (it must have 16 elements)', 422, 'warn', 'error', { ta1: '024' }),
  GW_X12_ISA_LENGTH: def('The ISA segment is not 106 characters long (fixed-width fields are padded wrongly)', 422, 'warn', 'error', { ta1: '024' }),
  GW_X12_DELIMITERS_INVALID: def('The delimiters in the ISA segment are invalid or collide', 422, 'warn', 'error', { ta1: '026' }),
  GW_X12_ISA_ELEMENT_INVALID: def('An ISA element has an invalid value', 422, 'warn', 'error', { ta1: '024' }),
  GW_X12_IEA_MISSING: def('The interchange has no IEA trailer (file truncated)', 422, 'warn', 'error', { ta1: '023' }),
  GW_X12_IEA_CONTROL_MISMATCH: def('IEA02 does not match ISA13', 422, 'warn', 'error', { ta1: '001' }),
  GW_X12_IEA_COUNT_MISMATCH: def('IEA01 does not match the number of functional groups', 422, 'warn', 'error', { ta1: '021' }),
  GW_X12_SEGMENT_OUTSIDE_GROUP: def('A segment appears outside a functional group or transaction set', 422, 'warn', 'error', { ta1: '024' }),
  GW_X12_INTERCHANGE_DUPLICATE: def('This interchange (partner, ISA13) was already accepted; it is not applied again', 409, 'info', 'error', { ta1: '025' }),

  // Functional group (GS/GE)
  GW_X12_GS_INVALID: def('The GS segment is invalid', 422, 'warn', 'error', { ak9: '1', ta1: '024' }),
  GW_X12_GE_MISSING: def('The functional group has no GE trailer', 422, 'warn', 'error', { ak9: '3' }),
  GW_X12_GE_CONTROL_MISMATCH: def('GE02 does not match GS06', 422, 'warn', 'error', { ak9: '4' }),
  GW_X12_GE_COUNT_MISMATCH: def('GE01 does not match the number of transaction sets', 422, 'warn', 'error', { ak9: '5' }),
  GW_X12_GS_CONTROL_DUPLICATE: def('GS06 is used twice in this interchange', 422, 'warn', 'error', { ak9: '6' }),

  // Transaction set (ST/SE)
  GW_X12_SE_MISSING: def('The transaction set has no SE trailer', 422, 'warn', 'error', { ak5: '2' }),
  GW_X12_SE_CONTROL_MISMATCH: def('SE02 does not match ST02', 422, 'warn', 'error', { ak5: '3' }),
  GW_X12_SE_COUNT_MISMATCH: def('SE01 does not match the number of segments from ST to SE', 422, 'warn', 'error', { ak5: '4' }),
  GW_X12_ST_CONTROL_DUPLICATE: def('ST02 is used twice in this functional group', 422, 'warn', 'error', { ak5: '23' }),
  GW_X12_ST_INVALID: def('The ST segment is missing or invalid', 422, 'warn', 'error', { ak5: '6' }),
  GW_X12_SET_GROUP_MISMATCH: def('The transaction set does not belong in this functional group (GS01)', 422, 'warn', 'error', { ak5: '6' }),
  GW_X12_SET_UNSUPPORTED: def('This partner is not configured to send this transaction set', 422, 'warn', 'error', { ak5: '1' }),
  GW_X12_SEGMENT_TAG_INVALID: def('A segment identifier is not valid X12', 422, 'warn', 'error', { ak3: '1', ak5: '5' }),

  // Reader notes (flags: the interchange is processed, the note is kept)
  GW_X12_LINE_WRAPPED: def('Line breaks inside segments were removed (file wrapped at a fixed width)', 200, 'info', 'warning'),
  GW_X12_FINAL_TERMINATOR_MISSING: def('The last segment has no segment terminator', 200, 'info', 'warning'),
  GW_X12_EBCDIC_TRANSCODED: def('The file was EBCDIC (code page 037) and was transcoded', 200, 'info', 'warning'),
  GW_X12_TA1_INVALID: def('A TA1 interchange acknowledgment from the partner is invalid', 422, 'warn', 'error', { ta1: '024' }),
  GW_X12_TRAILING_DATA: def('Data after the last IEA was ignored', 200, 'info', 'warning'),

  // Set content (mapping and per-set rules)
  GW_MAP_SEGMENT_MISSING: def('A mandatory segment is missing', 422, 'warn', 'error', { ak3: '3', ak5: '5' }),
  GW_MAP_ELEMENT_MISSING: def('A mandatory element is missing', 422, 'warn', 'error', { ak3: '8', ak4: '1', ak5: '5' }),
  GW_MAP_INVALID_NUMBER: def('An element that must be numeric is not a valid number', 422, 'warn', 'error', { ak3: '8', ak4: '6', ak5: '5' }),
  GW_MAP_INVALID_DATE: def('An element that must be a date is not a valid date', 422, 'warn', 'error', { ak3: '8', ak4: '8', ak5: '5' }),
  GW_MAP_INVALID_TIME: def('An element that must be a time is not a valid time', 422, 'warn', 'error', { ak3: '8', ak4: '9', ak5: '5' }),
  GW_MAP_INVALID_FORMAT: def('An element value does not have the required form', 422, 'warn', 'error', { ak3: '8', ak4: '6', ak5: '5' }),
  GW_MAP_INVALID_CODE: def('An element has a code value that is not allowed', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_X12_HL_INVALID: def('The HL hierarchy is invalid (HL01 not sequential, unknown parent, or wrong level order)', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_X12_SSCC_INVALID: def('The SSCC-18 in MAN*GM is not 18 digits with a correct GS1 check digit', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_X12_SSCC_REPEATED: def('The same SSCC-18 is used for more than one pack in the shipment', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_X12_LOOP_OVER_MAX: def('A loop occurs more often than the standard allows in one transaction set', 422, 'warn', 'error', { ak3: '4', ak5: '5' }),
  // The transaction-set grammar (grammars/x12): what a strict translator's 997 says (AK304 / AK403)
  GW_X12_SEGMENT_UNRECOGNIZED: def('A segment id that is no X12 segment (AK304 1)', 422, 'warn', 'error', { ak3: '1', ak5: '5' }),
  GW_X12_SEGMENT_UNEXPECTED: def('An X12 segment that this transaction set does not have (AK304 2)', 422, 'warn', 'error', { ak3: '2', ak5: '5' }),
  GW_X12_SEGMENT_MISSING: def('A mandatory segment (or loop) is missing where it was due (AK304 3)', 422, 'warn', 'error', { ak3: '3', ak5: '5' }),
  GW_X12_SEGMENT_OVER_MAX: def('A segment repeats more often than its maximum use (AK304 5)', 422, 'warn', 'error', { ak3: '5', ak5: '5' }),
  GW_X12_SEGMENT_OUT_OF_SEQUENCE: def('A segment of this transaction set where it cannot be: after what must follow it (AK304 7)', 422, 'warn', 'error', { ak3: '7', ak5: '5' }),
  GW_X12_ELEMENT_MISSING: def('A mandatory data element is missing (AK403 1)', 422, 'warn', 'error', { ak3: '8', ak4: '1', ak5: '5' }),
  GW_X12_ELEMENT_CONDITIONAL: def('A data element a syntax note requires (paired, required, conditional) is missing (AK403 2)', 422, 'warn', 'error', { ak3: '8', ak4: '2', ak5: '5' }),
  GW_X12_ELEMENT_TOO_MANY: def('The segment has more data elements (or components) than the standard defines (AK403 3)', 422, 'warn', 'error', { ak3: '8', ak4: '3', ak5: '5' }),
  GW_X12_ELEMENT_TOO_SHORT: def('A data element is shorter than its minimum length (AK403 4)', 422, 'warn', 'error', { ak3: '8', ak4: '4', ak5: '5' }),
  GW_X12_ELEMENT_TOO_LONG: def('A data element is longer than its maximum length (AK403 5)', 422, 'warn', 'error', { ak3: '8', ak4: '5', ak5: '5' }),
  GW_X12_ELEMENT_INVALID_CHARACTER: def('A data element has a character its type does not allow (AK403 6)', 422, 'warn', 'error', { ak3: '8', ak4: '6', ak5: '5' }),
  GW_X12_ELEMENT_INVALID_CODE: def('A data element has a code value its code list does not have (AK403 7)', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_X12_ELEMENT_INVALID_DATE: def('A date element is not a valid date (AK403 8)', 422, 'warn', 'error', { ak3: '8', ak4: '8', ak5: '5' }),
  GW_X12_ELEMENT_INVALID_TIME: def('A time element is not a valid time (AK403 9)', 422, 'warn', 'error', { ak3: '8', ak4: '9', ak5: '5' }),
  GW_X12_ELEMENT_EXCLUSION: def('Two data elements that exclude each other are both present (AK403 10)', 422, 'warn', 'error', { ak3: '8', ak4: '10', ak5: '5' }),
  GW_OUTBOUND_NONCONFORMANT: def('A document we built does not pass the transaction-set grammar (our fault): it is kept out with its reason and never sent', 500, 'error', 'error'),
  GW_X12_GRAMMAR_NEAREST: def('No grammar for this transaction set in its version: it was checked with the nearest version we have', 200, 'info', 'warning'),
  GW_X12_COUNT_MISMATCH: def('A control total (CTT) does not match the content', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_ITEM_UNKNOWN: def('No item identifier could be mapped to a SKU through the crosswalk', 422, 'warn', 'warning'),

  // Stock and orders (found while applying a set that the 997 accepted: the line is not applied,
  // the document is PARTIAL and listed in dead letters; a PO line is kept on the order as REJECTED)
  GW_ITEM_ID_CONFLICT: def('The ids of one line name two different items in the crosswalk', 422, 'warn', 'error'),
  GW_UOM_UNCONVERTIBLE: def('A quantity is in a unit that cannot be converted to the item base unit (no pack on the line, no conversion in the item master)', 422, 'warn', 'error'),
  GW_LOCATION_UNKNOWN: def('A warehouse code is neither in the partner location map nor one of our locations', 422, 'warn', 'error', { ak3: '8', ak4: '7', ak5: '5' }),
  GW_ORDER_AMBIGUOUS: def('A shipment names a PO number that orders of two partners share, with no customer or ship-to that tells them apart: nothing of that order is applied', 422, 'warn', 'error'),
  GW_ORDER_PARTNER_UNKNOWN: def('A shipment names a customer that is none of our partners: nothing of that order is applied', 422, 'warn', 'error'),
  GW_DOCUMENT_DUPLICATE: def('The same business document again (same PO and purpose, report id, shipment id or change number, same content) under new control numbers: not applied again', 200, 'info', 'warning'),
  GW_DOCUMENT_CONFLICT: def('A business document whose key (PO and purpose, report id, shipment id, change number) was applied before with other content: held for an admin, not applied', 409, 'warn', 'error'),
  GW_WAITING_FOR_ORDER: def('The document refers to a PO that has not arrived yet: it waits (WAITING) and is applied when the PO arrives', 202, 'info', 'warning'),
  GW_WAITING_FOR_ASN: def('A receipt or a notice cancellation refers to a supplier ship notice that has not arrived yet: it waits (WAITING) and is applied when the notice arrives', 202, 'info', 'warning'),
  GW_WAIT_EXPIRED: def('What a WAITING document refers to did not arrive within the waiting window: it is dead-lettered, not applied', 422, 'warn', 'error'),
  GW_ORDER_CHANGE_REFUSED: def('A PO change cannot be applied to a line (a kit line, another item than the line has, no new quantity, an order we do not have): that line is left as it was', 422, 'warn', 'error'),
  GW_ORDER_CHANGED_AFTER_SHIP: def('A PO line was changed to less than has shipped already: what shipped stays shipped, nothing of it is open', 200, 'info', 'warning'),
  GW_SUPPLY_UNKNOWN: def('A ship notice cancellation or receipt names a supplier shipment we have no notice of', 422, 'warn', 'error'),
  GW_RECEIPT_NOT_ON_NOTICE: def('A receipt line names an item that is not on the ship notice it is against: the stock is received, nothing in transit is cleared for it', 200, 'info', 'warning'),
  GW_MOVEMENT_IN_SNAPSHOT: def('A stock movement (adjustment, shipment) is dated before the snapshot the position took: that snapshot counted it already, it is not applied again', 200, 'info', 'warning'),
  GW_SNAPSHOT_STALE: def('A stock line is dated before the snapshot the position already took: it is recorded but does not overwrite the newer one', 200, 'info', 'warning'),
  GW_LOCATION_MISSING: def('A stock line names no location and the partner has no default location', 422, 'warn', 'error'),
  GW_X12_SEGMENT_OUT_OF_PLACE: def('A segment is not where the transaction set allows it (e.g. N1 after QTY inside a LIN loop)', 422, 'warn', 'error', { ak3: '2', ak5: '5' }),
  GW_ITEM_PROVISIONAL: def('The item is in no crosswalk: it is kept as a provisional item until a crosswalk entry names it', 200, 'info', 'warning'),
  GW_SHORT_SHIPPED: def('The warehouse shipped less than the line it was released (its shipping advice says the difference): the rest is backordered or cancelled per the partner\'s shortShipments policy, and taken off on hand', 200, 'warn', 'warning'),
  GW_SHIPPED_AFTER_CANCEL: def('The warehouse reports a shipment of an order we had cancelled with it (940 F): what shipped stays shipped and the order is SHIPPED; the retailer\'s ASN follows', 200, 'warn', 'warning'),
  GW_ORDER_CANCEL_AFTER_SHIP: def('A cancel came for an order that shipped, all or in part: what shipped stays shipped; the rest is cancelled (and the warehouse told, 940 F)', 200, 'info', 'warning'),
  GW_BACKORDER_NO_STOCK: def('Not enough stock can be promised to this partner at the location: the rest is backordered', 200, 'info', 'warning'),

  // Outbound ASN pre-flight (the ASN is kept out of the outbox)
  GW_ASN_VALUE_HAS_DELIMITER: def('A value the ASN would carry (a tracking number, an id) contains a delimiter of the retailer\'s envelope: the ASN is kept out with its reason, the shipment is applied', 422, 'warn', 'error'),
  GW_ASN_ITEM_NOT_ON_PO: def('A shipped item is not on the purchase order', 422, 'warn', 'error'),
  GW_ASN_OVER_SHIPMENT: def('More is shipped than the purchase order line asks for', 422, 'warn', 'error'),
  GW_ASN_SSCC_INVALID: def('A pack SSCC-18 is not valid', 422, 'warn', 'error'),
  GW_ASN_SSCC_REUSED: def('A pack SSCC-18 was used before', 422, 'warn', 'error'),
  GW_ASN_EMPTY_PACK: def('A pack has no items', 422, 'warn', 'error'),
  GW_ASN_QUANTITY_INVALID: def('A shipped quantity is not a positive number', 422, 'warn', 'error'),

  // Partners and channels
  GW_PARTNER_UNKNOWN: def('The interchange sender (ISA05/ISA06) is not a configured partner', 422, 'warn', 'error', { ta1: '006' }),
  GW_PARTNER_RECEIVER_UNKNOWN: def('The interchange receiver (ISA07/ISA08) is not this gateway', 422, 'warn', 'error', { ta1: '008' }),
  GW_PARTNER_GS_MISMATCH: def('GS02/GS03 are not the application codes configured for this partner and for us', 422, 'warn', 'error', { ak9: '1' }),
  GW_PARTNER_CHANNEL_MISMATCH: def('The envelope names another partner than the channel the file came from', 422, 'warn', 'error', { ta1: '006' }),

  // Our own configuration and faults
  GW_CONFIG_INVALID: def('The gateway configuration is invalid', 500, 'fatal', 'error'),
  GW_MAPPING_INVALID: def('A mapping config is invalid', 422, 'error', 'error'),
  GW_MAPPING_MISSING: def('No mapping config exists for this partner and transaction set', 422, 'warn', 'error', { ak5: '1' }),
  GW_OUTBOUND_NOT_BUILT: def('An 855 or 940 could not be written: a value it would carry holds a delimiter of the partner\'s envelope; it is kept out with its reason, the document that caused it is applied', 422, 'warn', 'warning'),
  GW_VALUE_HAS_DELIMITER: def('An outbound element value contains a delimiter character', 500, 'error', 'error'),
  GW_NOT_FOUND: def('Not found', 404, 'info', 'error'),
  GW_BAD_REQUEST: def('Bad request', 400, 'info', 'error'),
  GW_USAGE: def('Usage error', 400, 'info', 'error'),
  GW_INTERNAL: def('Internal error', 500, 'error', 'error'),
  GW_DATA_DIR_LOCKED: def('Another gateway runs on this SQLite data dir: one gateway per SQLite store (several instances need PostgreSQL)', 409, 'error', 'error'),
  GW_FEED_STALE: def('Nothing of business (a 997, a duplicate or a rejected file does not count) came from the partner within its expectFeedWithinMinutes', 200, 'warn', 'warning'),
  GW_PORT_IN_USE: def('The status API cannot listen on its port (in use by another program, or not allowed): the gateway does not start', 500, 'fatal', 'error'),
  GW_STORE_BUSY: def('The store stayed busy (a running gateway holds its write lock) for as long as the command waits: try again', 503, 'warn', 'error'),
  GW_PROCESSING_FAILED: def('The gateway failed on this document (a fault of ours, not of the file) as many times as it tries: FAILED, in the dead letters, its file in error/; replay it after a fix', 500, 'error', 'error'),
  GW_UNAUTHORIZED: def('A bearer token is required (Authorization: Bearer <token>)', 401, 'info', 'error'),
  GW_FORBIDDEN: def('The bearer token is not valid', 403, 'warn', 'error'),
  GW_CONFLICT: def('The request conflicts with the state of the resource', 409, 'info', 'error'),
  GW_PAYLOAD_TOO_LARGE: def('The request body is over the limit', 413, 'info', 'error'),
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export function errorDef(code: ErrorCode): ErrorDef {
  return ERRORS[code];
}

/** Thrown only for our own faults and configuration problems; partner data problems are returned. */
export class GatewayError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message?: string,
    public readonly details?: unknown,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = 'GatewayError';
  }
}
