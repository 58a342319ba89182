import { open } from 'node:fs/promises';

export type Format = 'x12' | 'xml' | 'unknown' | 'empty';

/** Look at the first bytes: X12 starts with ISA (maybe after a BOM, whitespace, or in EBCDIC); XML with '<'. */
export function detectFormatOf(head: Buffer): Format {
  let i = 0;
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (i >= head.length) return 'empty';
  if (head[i] === 0xc9 && head[i + 1] === 0xe2 && head[i + 2] === 0xc1) return 'x12';
  if (head[i] === 0x3c) return 'xml';
  if (head.toString('latin1', i, i + 3) === 'ISA') return 'x12';
  // Anything else is read as X12 so it gets the reader's precise rejection.
  return /^[A-Z]{2,3}[^A-Za-z0-9]/.test(head.toString('latin1', i, i + 4)) ? 'x12' : 'unknown';
}

export async function detectFormat(file: string): Promise<Format> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return detectFormatOf(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
