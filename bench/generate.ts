/**
 * Benchmark inputs: a large 846 (item/location stock, 10,000 LIN loops per ST as 4010 allows)
 * and a file of many 850s. Deterministic, so runs compare.
 *   node --import tsx bench/generate.ts 846 <MiB> <file>
 *   node --import tsx bench/generate.ts 850 <count> <file>
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const ISA = (ctrl: number, sender: string) =>
  `ISA*00*          *00*          *ZZ*${sender.padEnd(15)}*ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${String(ctrl).padStart(9, '0')}*0*P*>~\n`;

async function write(file: string, produce: (emit: (s: string) => Promise<void>) => Promise<void>): Promise<void> {
  const out = createWriteStream(file);
  let buf = '';
  const emit = async (s: string) => {
    buf += s;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  };
  await produce(emit);
  out.write(buf);
  out.end();
  await once(out, 'finish');
}

export async function generate846(file: string, mib: number): Promise<void> {
  const target = mib * 1024 * 1024;
  await write(file, async (emit) => {
    let bytes = 0;
    const e = async (s: string) => {
      bytes += s.length;
      await emit(s);
    };
    await e(ISA(1, 'ACME3PL'));
    await e('GS*IB*ACME3PL*DISTRIBUTOR1*20261120*0930*1*X*004010~\n');
    let st = 0;
    let item = 0;
    while (bytes < target) {
      st++;
      const ctrl = String(st).padStart(4, '0');
      let segs = 0;
      const s = async (x: string) => {
        segs++;
        await e(x + '~\n');
      };
      await s(`ST*846*${ctrl}`);
      await s(`BIA*00*DD*INV-${st}*20261120*0900`);
      await s('N1*WH*ACME EAST*92*ACME-EAST');
      for (let l = 1; l <= 10_000 && bytes < target; l++) {
        item++;
        await s(`LIN*${l}*UP*${String(100000000000 + item).slice(-12)}*VN*SKU-${item}`);
        await s(`PID*F****ITEM NUMBER ${item}`);
        await s(`QTY*17*${(item * 7) % 1000}*EA`);
        await s(`QTY*33*${(item * 5) % 1000}*EA`);
      }
      await s('CTT*1');
      await e(`SE*${segs + 1}*${ctrl}~\n`);
    }
    await e(`GE*${st}*1~\n`);
    await e('IEA*1*000000001~\n');
  });
}

export async function generate850s(file: string, count: number): Promise<void> {
  await write(file, async (emit) => {
    await emit(ISA(2, 'RETAILCO'));
    await emit('GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*2*X*004010~\n');
    for (let i = 1; i <= count; i++) {
      const ctrl = String(i).padStart(5, '0');
      const body = [
        `BEG*00*SA*PO-${i}**20261120`,
        'REF*DP*042',
        'DTM*010*20261124',
        'N1*ST*DEMO RETAIL STORE 17*92*0017',
        'N3*100 MAIN STREET',
        'N4*SPRINGFIELD*IL*62701',
        `PO1*1*${(i % 50) + 1}*EA*9.25*PE*UP*012345678905*VN*AB3542`,
        'PID*F****SMALL WIDGET',
        `PO1*2*${(i % 20) + 1}*EA*13.79*PE*UP*012345678912`,
        'CTT*2',
      ];
      await emit(`ST*850*${ctrl}~\n${body.join('~\n')}~\nSE*${body.length + 2}*${ctrl}~\n`);
    }
    await emit(`GE*${count}*2~\nIEA*1*000000002~\n`);
  });
}

if (process.argv[1]?.endsWith('generate.ts')) {
  const [kind, n, file] = process.argv.slice(2);
  await (kind === '846' ? generate846(file, Number(n)) : generate850s(file, Number(n)));
}
