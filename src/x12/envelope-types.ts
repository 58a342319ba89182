import type { Rejection } from '../core/rejection.ts';
import type { Delimiters, Segment } from './segment-reader.ts';
import type { IsaParties } from './x12-writer.ts';

export interface InterchangeHeader extends IsaParties {
  /** Ordinal of the interchange in the file (1-based); ISA13 may repeat inside a mailbag file. */
  seq: number;
  elements: string[];
  delimiters: Delimiters;
  control: string;
  segmentIndex: number;
}

export interface GroupHeader {
  functionalId: string;
  sender: string;
  receiver: string;
  date: string;
  time: string;
  control: string;
  agency: string;
  version: string;
  segmentIndex: number;
}

export interface TransactionSet {
  interchange: InterchangeHeader;
  group: GroupHeader;
  setId: string;
  control: string;
  implementation?: string;
  /** All segments from ST to SE inclusive. */
  segments: Segment[];
}

export interface SetResult {
  setId: string;
  control: string;
  implementation?: string;
  segmentIndex: number;
  accepted: boolean;
  rejections: Rejection[];
  eventCount: number;
}

export interface GroupResult {
  header: GroupHeader;
  sets: SetResult[];
  rejections: Rejection[];
  /** GE01 as declared, when a GE was present. */
  declaredCount?: number;
  accepted: boolean;
}

export interface InterchangeResult {
  header: InterchangeHeader | null;
  groups: GroupResult[];
  /** Interchange-level errors (TA1) and notes. */
  rejections: Rejection[];
  accepted: boolean;
  duplicate: boolean;
  /** The partner the interchange was resolved to (or null when unknown). */
  partnerId: string | null;
  /** Events from TA1 segments (the partner's interchange acknowledgments). */
  ta1Events: number;
}

/** What the pipeline decides about an interchange when its ISA has been read. */
export interface InterchangeContext {
  partnerId: string | null;
  /** Rejections that stop the interchange (unknown partner, wrong channel, wrong receiver). */
  rejections: Rejection[];
  /** Already accepted before: do not apply again. */
  duplicate: boolean;
}

export interface SetOutcome<E> {
  events: E[];
  rejections: Rejection[];
}
