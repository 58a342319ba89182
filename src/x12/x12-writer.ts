import { GatewayError } from '../core/errors.ts';

/**
 * Writes X12 interchanges: pads the ISA, counts SE01/GE01/IEA01, and refuses element values that
 * contain a delimiter (node-x12 writes them as they are and breaks the document).
 */
export interface WriterDelimiters {
  element: string;
  component: string;
  segment: string;
  repetition: string;
  /** Written after each terminator ("\n" for readable files, "" for none). */
  suffix: string;
}

/** What an ISA says, read (InterchangeHeader) or written (IsaFields). */
export interface IsaParties {
  senderQualifier: string;
  senderId: string;
  receiverQualifier: string;
  receiverId: string;
  /** YYMMDD and HHMM. */
  date: string;
  time: string;
  version: string;
  ackRequested: boolean;
  usage: string;
}

export interface IsaFields extends IsaParties {
  control: number;
}

export interface GsFields {
  functionalId: string;
  sender: string;
  receiver: string;
  /** CCYYMMDD and HHMM. */
  date: string;
  time: string;
  control: number;
  version: string;
}

export type Element = string | string[] | undefined;

export class X12Writer {
  private out: string[] = [];
  private setCount = 0;
  private groupCount = 0;
  private segsInSet = 0;
  private stControl = '';
  private gsControl = 0;
  private isaControl = 0;
  private forbidden: string[];

  constructor(private readonly d: WriterDelimiters) {
    this.forbidden = [d.element, d.component, d.segment, d.repetition].filter((c) => c.length > 0);
  }

  private check(value: string, where: string): string {
    for (const c of this.forbidden) {
      if (value.includes(c)) throw new GatewayError('GW_VALUE_HAS_DELIMITER', `${where}: ${JSON.stringify(value)} contains ${JSON.stringify(c)}`);
    }
    return value;
  }

  /** Write one segment. Trailing empty elements are dropped; an array element is a composite. */
  segment(tag: string, ...elements: Element[]): void {
    let last = elements.length;
    while (last > 0 && (elements[last - 1] === undefined || elements[last - 1] === '')) last--;
    const parts = [tag];
    for (let i = 0; i < last; i++) {
      const e = elements[i];
      const where = `${tag}${String(i + 1).padStart(2, '0')}`;
      if (Array.isArray(e)) {
        let n = e.length;
        while (n > 0 && !e[n - 1]) n--;
        parts.push(e.slice(0, n).map((c) => this.check(c ?? '', where)).join(this.d.component));
      } else parts.push(this.check(e ?? '', where));
    }
    this.out.push(parts.join(this.d.element) + this.d.segment + this.d.suffix);
    if (this.stControl) this.segsInSet++;
  }

  isa(f: IsaFields): void {
    const pad = (v: string, n: number) => v.padEnd(n, ' ').slice(0, n);
    this.isaControl = f.control;
    const control = String(f.control).padStart(9, '0');
    const repetitionOrU = f.version >= '00402' ? this.d.repetition : 'U';
    const e = [
      'ISA', '00', pad('', 10), '00', pad('', 10),
      pad(f.senderQualifier, 2), pad(f.senderId, 15), pad(f.receiverQualifier, 2), pad(f.receiverId, 15),
      f.date, f.time, repetitionOrU, f.version, control, f.ackRequested ? '1' : '0', f.usage, this.d.component,
    ];
    for (let i = 1; i < 16; i++) if (i !== 11) this.check(e[i], `ISA${String(i).padStart(2, '0')}`);
    this.out.push(e.join(this.d.element) + this.d.segment + this.d.suffix);
    this.groupCount = 0;
  }

  gs(f: GsFields): void {
    this.gsControl = f.control;
    this.setCount = 0;
    this.groupCount++;
    this.segment('GS', f.functionalId, f.sender, f.receiver, f.date, f.time, String(f.control), 'X', f.version);
  }

  st(setId: string, control: string, implementation?: string): void {
    this.stControl = control;
    this.segsInSet = 0;
    this.setCount++;
    this.segment('ST', setId, control, implementation);
  }

  se(): void {
    const n = this.segsInSet + 1;
    const control = this.stControl;
    this.stControl = '';
    this.segment('SE', String(n), control);
  }

  ge(): void {
    this.segment('GE', String(this.setCount), String(this.gsControl));
  }

  iea(): void {
    this.segment('IEA', String(this.groupCount), String(this.isaControl).padStart(9, '0'));
  }

  /** Segments written since the last ST (for CTT-like counts the caller keeps). */
  get setSegments(): number {
    return this.segsInSet;
  }

  toString(): string {
    return this.out.join('');
  }

  /** Take what was written so far (for streaming large documents). */
  drain(): string {
    const s = this.out.join('');
    this.out = [];
    return s;
  }
}
