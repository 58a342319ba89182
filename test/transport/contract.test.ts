import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import type { InboundSource, IncomingFile, OutboundSink } from '../../src/transport/channel.ts';
import { FolderChannel } from '../../src/transport/folder-channel.ts';
import { SftpChannel } from '../../src/transport/sftp-channel.ts';
import { tempDir, waitFor } from '../helpers.ts';
import { sftpSettings, startSshd, type TestSshd } from './sshd.ts';

/**
 * The one contract both transports keep (local folders and SFTP), run against each: complete files
 * are handed over once with their bytes; files being written are never handed over; settled files
 * leave the inbox, rejected ones are kept with their reason; a file not settled is handed over
 * again after a restart; deliveries appear whole under their final name and replace an older one;
 * nothing is handed over after stop().
 */
type Channel = InboundSource & OutboundSink;

interface Fixture {
  /** A new channel instance on the same folders (a restart). */
  channel(): Channel;
  /** Place a file in the inbox the way a partner should: under a temporary name, then renamed. */
  put(name: string, content: string | Buffer): void;
  /** Place a file still being written. */
  putPartial(name: string, content: string): void;
  inbox(): string[];
  outbox(): string[];
  outboxFile(name: string): Buffer;
  /** The bytes and reason kept for a rejected file. */
  kept(documentId: number, name: string): { bytes: Buffer; reason: { errorCode: string } } | null;
}

const visible = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.') && !/\.(part|tmp)$/.test(f)).sort();

function folderFixture(): Fixture {
  const root = tempDir('gw-contract-folder-');
  const paths = { in: path.join(root, 'in'), out: path.join(root, 'out'), archive: path.join(root, 'archive'), error: path.join(root, 'error') };
  const fx: Fixture = {
    channel: () => new FolderChannel('contract', paths, { stabilityMs: 50, incompleteAfterMs: 60_000 }, silentLogger),
    put(name, content) {
      writeFileSync(path.join(paths.in, `.${name}.tmp`), content);
      renameSync(path.join(paths.in, `.${name}.tmp`), path.join(paths.in, name));
    },
    putPartial: (name, content) => writeFileSync(path.join(paths.in, `${name}.part`), content),
    inbox: () => visible(paths.in),
    outbox: () => readdirSync(paths.out).sort(),
    outboxFile: (name) => readFileSync(path.join(paths.out, name)),
    kept(id, name) {
      const f = path.join(paths.error, `${id}-${name}`);
      if (!existsSync(f)) return null;
      return { bytes: readFileSync(f), reason: JSON.parse(readFileSync(`${f}.error.json`, 'utf8')) };
    },
  };
  for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
  return fx;
}

function sftpFixture(d: TestSshd): Fixture {
  const base = `contract-${Date.now()}`;
  const inbound = d.dir(`${base}/in`);
  const outbound = d.dir(`${base}/out`);
  const staging = tempDir('gw-contract-sftp-');
  return {
    channel: () =>
      new SftpChannel(
        'contract',
        sftpSettings(d, inbound, outbound),
        staging,
        silentLogger,
      ),
    put(name, content) {
      writeFileSync(path.join(inbound, `.${name}.tmp`), content);
      renameSync(path.join(inbound, `.${name}.tmp`), path.join(inbound, name));
    },
    putPartial: (name, content) => writeFileSync(path.join(inbound, `${name}.part`), content),
    inbox: () => visible(inbound),
    outbox: () => readdirSync(outbound).sort(),
    outboxFile: (name) => readFileSync(path.join(outbound, name)),
    kept(id, name) {
      const f = path.join(staging, 'error', `${id}-${name}`);
      if (!existsSync(f)) return null;
      return { bytes: readFileSync(f), reason: JSON.parse(readFileSync(`${f}.error.json`, 'utf8')) };
    },
  };
}

/** Collects what a channel hands over; `settle` decides what happens to each file. */
function collector(ch: Channel, settle: (f: IncomingFile, n: number) => Promise<void> | void) {
  const seen: { name: string; bytes: Buffer }[] = [];
  const onFile = async (f: IncomingFile) => {
    seen.push({ name: f.name, bytes: readFileSync(f.localPath) });
    await settle(f, seen.length);
  };
  return { seen, start: () => ch.start(onFile) };
}

/** Looks complete to a folder (ends with an IEA); the contract is about bytes, not X12. */
const x12 = (s: string) => `ISA*${s}~IEA*1*000000001~`;

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

function contract(name: string, make: () => Fixture | null) {
  describe(`transport contract: ${name}`, () => {
    let fx: Fixture;
    let ch: Channel | null = null;
    const open: Channel[] = [];
    const channel = () => {
      const c = fx.channel();
      open.push(c);
      return c;
    };
    before(() => {
      const f = make();
      if (f) fx = f;
    });
    // A failed test must not leave its channel taking the next test's files.
    afterEach(async () => {
      for (const c of open.splice(0)) await c.stop();
    });

    test('a complete file is handed over once, with its bytes; settled, it leaves the inbox', async (t) => {
      if (!fx) return t.skip('transport not available');
      ch = channel();
      const c = collector(ch, (f, n) => ch!.settle(f, 100 + n, 'archive'));
      await c.start();
      const body = Buffer.from(x12('contract body\u00e9'), 'latin1');
      fx.put('a.x12', body);
      await waitFor(() => c.seen.length === 1 && fx.inbox().length === 0, 10_000, 'the file handed over and settled');
      assert.deepEqual(c.seen[0].bytes, body);
      await quiet(400);
      assert.equal(c.seen.length, 1, 'not handed over twice');
      await ch.stop();
      ch = null;
    });

    test('files still being written (.part, .tmp, dot names) are never handed over', async (t) => {
      if (!fx) return t.skip('transport not available');
      ch = channel();
      const c = collector(ch, (f, n) => ch!.settle(f, 200 + n, 'archive'));
      await c.start();
      fx.putPartial('b.x12', 'ISA*half');
      await quiet(500);
      assert.equal(c.seen.length, 0);
      await ch.stop();
      ch = null;
    });

    test('a rejected file leaves the inbox and is kept with its reason', async (t) => {
      if (!fx) return t.skip('transport not available');
      ch = channel();
      const report = { documentId: 301, status: 'REJECTED', errorCode: 'GW_TEST', errorMessage: 'test', rejections: [] };
      const c = collector(ch, (f) => ch!.settle(f, 301, 'error', report));
      await c.start();
      fx.put('c.x12', 'not x12 at all');
      const kept = await waitFor(() => c.seen.length === 1 && fx.inbox().length === 0 && (fx.kept(301, 'c.x12') ?? undefined), 10_000, 'the rejected file settled and kept');
      assert.equal(kept.bytes.toString(), 'not x12 at all');
      assert.equal(kept.reason.errorCode, 'GW_TEST');
      await ch.stop();
      ch = null;
    });

    test('a file handed over but never settled (a crash) is handed over again after a restart', async (t) => {
      if (!fx) return t.skip('transport not available');
      ch = channel();
      const c1 = collector(ch, () => {
        throw new Error('crash before the commit');
      });
      await c1.start();
      fx.put('d.x12', x12('d'));
      await waitFor(() => c1.seen.length >= 1, 10_000, 'the first hand-over');
      await ch.stop();
      // Not settled: wherever the transport keeps a claimed file (a folder claims it into
      // processing/, SFTP leaves it on the server), it is neither archived nor lost.
      assert.equal(fx.kept(0, 'd.x12'), null);
      ch = channel();
      const c2 = collector(ch, (f) => ch!.settle(f, 401, 'archive'));
      await c2.start();
      await waitFor(() => c2.seen.length === 1 && fx.inbox().length === 0, 10_000, 'the hand-over after the restart');
      assert.equal(c2.seen[0].bytes.toString(), x12('d'));
      await ch.stop();
      ch = null;
    });

    test('deliveries appear whole under their final name, replace an older one, and leave no temporary file', async (t) => {
      if (!fx) return t.skip('transport not available');
      ch = channel();
      await ch.deliver('997-1.x12', 'first');
      await ch.deliver('997-1.x12', Buffer.from('second'));
      const big = path.join(tempDir('gw-contract-big-'), 'big.x12');
      const bytes = Buffer.alloc(5 * 1024 * 1024, 'z');
      writeFileSync(big, bytes);
      await ch.deliverFile('846-big.x12', big);
      assert.deepEqual(fx.outbox(), ['846-big.x12', '997-1.x12']);
      assert.equal(fx.outboxFile('997-1.x12').toString(), 'second');
      assert.deepEqual(fx.outboxFile('846-big.x12'), bytes);
      await ch.stop();
      ch = null;
    });

    test('after stop() nothing more is handed over', async (t) => {
      if (!fx) return t.skip('transport not available');
      ch = channel();
      const c = collector(ch, (f, n) => ch!.settle(f, 500 + n, 'archive'));
      await c.start();
      await ch.stop();
      fx.put('e.x12', x12('e'));
      await quiet(500);
      assert.equal(c.seen.length, 0);
      assert.deepEqual(fx.inbox(), ['e.x12']);
      ch = null;
    });
  });
}

let sshd: TestSshd | null = null;
before(async () => {
  sshd = await startSshd();
  if (!sshd) console.error('\n*** sshd (openssh-server) not found: the SFTP contract tests are SKIPPED (.ci/run installs it) ***\n');
});
after(async () => {
  await sshd?.stop();
});

contract('local folders', folderFixture);
contract('SFTP', () => (sshd ? sftpFixture(sshd) : null));
