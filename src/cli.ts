import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { directoryOf, loadConfig, readMappingFiles, type GatewayConfig } from './config/load-config.ts';
import { ERRORS, GatewayError } from './core/errors.ts';
import { isError, reject } from './core/rejection.ts';
import { MappingRegistry } from './mapping/registry.ts';
import { buildPlannedAcks, planFileAcks } from './pipeline/acks-for.ts';
import { MemorySink } from './pipeline/memory-sink.ts';
import { allRejections, translateX12, type TranslateResult } from './pipeline/translate-x12.ts';
import { detectFormat } from './pipeline/detect-format.ts';
import { translateXml, type XmlTranslateResult } from './pipeline/translate-xml.ts';

/**
 * `gateway start | translate FILE [--partner ID] | ack FILE [--partner ID]`
 * Exit codes: 0 all accepted, 1 something rejected, 2 usage error (or bad config).
 */
function setup(): { config: GatewayConfig; mappings: MappingRegistry } {
  const config = loadConfig();
  const mappings = new MappingRegistry();
  const problems = mappings.loadAll(readMappingFiles(config.mappingsDir));
  if (problems.length) {
    throw new GatewayError('GW_MAPPING_INVALID', problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'), problems);
  }
  return { config, mappings };
}

async function translateFile(file: string, partnerId: string | undefined) {
  if (!existsSync(file) || !statSync(file).isFile()) throw new CommanderError(2, 'GW_USAGE', `no such file: ${file}`);
  const { config, mappings } = setup();
  const partners = directoryOf(config);
  if (partnerId && !partners.get(partnerId)) throw new CommanderError(2, 'GW_USAGE', `unknown partner ${partnerId} (configured: ${config.partners.map((p) => p.id).join(', ')})`);
  const sink = new MemorySink();
  const format = await detectFormat(file);
  let result: TranslateResult | null = null;
  let xml: XmlTranslateResult | null = null;
  if (format === 'xml') {
    const data = readFileSync(file);
    xml = translateXml(data, {
      partners,
      mappings,
      channelPartnerId: partnerId,
      documentId: `file:${file}`,
      sha256: createHash('sha256').update(data).digest('hex'),
      correlationId: 'cli',
      receivedAt: new Date().toISOString(),
    });
  }
  if (format === 'x12') {
    result = await translateX12(createReadStream(file, { highWaterMark: 1 << 16 }), {
      partners,
      mappings,
      channelPartnerId: partnerId,
      documentId: `file:${file}`,
      correlationId: 'cli',
      receivedAt: new Date().toISOString(),
      sink,
    });
  }
  return { result, format, sink, partners, xml };
}

async function cmdTranslate(file: string, opts: { partner?: string }): Promise<number> {
  const { result, format, sink, xml } = await translateFile(file, opts.partner);
  if (xml) {
    for (const e of xml.events) process.stdout.write(JSON.stringify(e) + '\n');
    for (const r of xml.rejections) process.stderr.write(JSON.stringify(r) + '\n');
    return xml.rejections.some(isError) ? 1 : 0;
  }
  if (!result) {
    process.stderr.write(JSON.stringify(reject(format === 'empty' ? 'GW_FILE_EMPTY' : 'GW_FORMAT_UNKNOWN')) + '\n');
    return 1;
  }
  for (const e of sink.all()) process.stdout.write(JSON.stringify(e) + '\n');
  const all = allRejections(result);
  for (const r of all) process.stderr.write(JSON.stringify(r) + '\n');
  const rejected = all.some(isError) || result.interchanges.some((ic) => !ic.accepted || ic.groups.some((g) => !g.accepted));
  return rejected ? 1 : 0;
}

async function cmdAck(file: string, opts: { partner?: string }): Promise<number> {
  const { result, partners } = await translateFile(file, opts.partner);
  if (!result) return 1;
  const planned = planFileAcks(result.interchanges, partners, opts.partner);
  let n = 0;
  const acks = buildPlannedAcks(planned, new Date(), () => ({ isa: ++n, gs: n }));
  for (const a of acks) process.stdout.write(a.content);
  if (!acks.length) process.stderr.write(JSON.stringify({ message: 'no acknowledgment is due for this file' }) + '\n');
  return 0;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command();
  let code = 0;
  program
    .name('gateway')
    .description('EDI and file-based partner gateway')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command('start')
    .description('run the gateway: watch drop folders, process files, send acknowledgments, serve the status API')
    .action(async () => {
      const { runForever } = await import('./main.ts');
      await runForever();
      code = -1; // keep running
    });
  program
    .command('translate')
    .argument('<file>', 'an X12 file')
    .option('-p, --partner <id>', 'treat the file as received on this partner\'s channel')
    .description('print canonical events as NDJSON on stdout and rejections as JSON lines on stderr')
    .action(async (file: string, opts: { partner?: string }) => {
      code = await cmdTranslate(file, opts);
    });
  program
    .command('ack')
    .argument('<file>', 'an X12 file')
    .option('-p, --partner <id>', 'treat the file as received on this partner\'s channel')
    .description('print the 997/TA1 the gateway would send for the file (control numbers from 1: a preview)')
    .action(async (file: string, opts: { partner?: string }) => {
      code = await cmdAck(file, opts);
    });
  program
    .command('rebuild')
    .description('rebuild every position from the movement log; exit 1 if any number changed')
    .action(async () => {
      code = await (await import('./cli-store.ts')).cmdRebuild();
    });
  program
    .command('divergence')
    .description('snapshot divergences (store before vs snapshot) as JSON lines; only differences unless --all')
    .option('-p, --partner <id>', 'only snapshots from this partner')
    .option('-d, --document <id>', 'only this document')
    .option('--all', 'include item/locations where the snapshot agreed')
    .option('--limit <n>', 'at most this many lines', '1000')
    .action(async (o: { partner?: string; document?: string; all?: boolean; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdDivergence(o);
    });
  program
    .command('oversells')
    .description('PO lines that were short although their partner had been promised the quantity, as JSON lines (newest first)')
    .option('-p, --partner <id>', 'only this partner')
    .option('--po <number>', 'only this PO')
    .option('--limit <n>', 'at most this many lines', '1000')
    .action(async (o: { partner?: string; po?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdOversells(o);
    });
  program
    .command('held')
    .description('documents\' events held back, as JSON lines (newest first): WAITING for what they refer to, CONFLICT with what their business key had, and what became of them')
    .option('--status <status>', 'WAITING, CONFLICT, APPLIED, EXPIRED or DISCARDED (default: WAITING and CONFLICT)')
    .option('-p, --partner <id>', 'only this partner')
    .option('--limit <n>', 'at most this many lines', '1000')
    .action(async (o: { status?: string; partner?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdHeld(o);
    });
  program
    .command('supply')
    .description('supplier ship notices not received in full, with what came of each line, as JSON lines')
    .option('--overdue', 'only those whose expected date has passed')
    .option('-p, --partner <id>', 'only this supplier')
    .option('--limit <n>', 'at most this many lines', '1000')
    .action(async (o: { overdue?: boolean; partner?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdSupply(o);
    });
  program
    .command('items')
    .description('provisional items (ids no crosswalk knows), with their ids and where they were seen, as JSON lines')
    .option('--status <status>', 'PROVISIONAL (default), PROMOTED or MERGED')
    .option('--limit <n>', 'at most this many lines', '1000')
    .action(async (o: { status?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdItems(o);
    });
  program
    .command('availability')
    .requiredOption('-i, --item <sku>', 'our SKU')
    .option('-l, --location <id>', 'one location')
    .option('-p, --partner <id>', 'also what this partner is shown')
    .description('the position of an item (and a partner\'s view of it) as JSON')
    .action(async (o: { item: string; location?: string; partner?: string }) => {
      code = await (await import('./cli-store.ts')).cmdAvailability(o);
    });
  program
    .command('order')
    .argument('<po>', 'the PO number')
    .option('-p, --partner <id>', 'the retailer (when PO numbers repeat across partners)')
    .description('the order and its timeline (received, committed, backordered, shipped, ASN sent and acknowledged) as JSON')
    .action(async (po: string, o: { partner?: string }) => {
      code = await (await import('./cli-store.ts')).cmdOrder(po, o);
    });
  program
    .command('token')
    .argument('[name]', 'a name for the token (shown in the logs of what it did)', 'admin')
    .description('make an API bearer token: prints the token (give it to the operator) and the api.tokens entry for gateway.yaml (its sha256)')
    .action(async (name: string) => {
      const { randomBytes, createHash } = await import('node:crypto');
      const token = randomBytes(32).toString('base64url');
      process.stdout.write(JSON.stringify({ token, config: { name, sha256: createHash('sha256').update(token).digest('hex') } }) + '\n');
      code = 0;
    });
  program
    .command('resend')
    .argument('[ids...]', 'outbox ids (GET /outbox shows them)')
    .option('-p, --partner <id>', 'only this partner\'s entries')
    .option('--failed', 'every FAILED entry (of the partner, with --partner)')
    .description('deliver outbox entries again: FAILED ones after a fix, or SENT ones a partner lost; the running gateway sends them within outbound.sweepMs')
    .action(async (ids: string[], o: { partner?: string; failed?: boolean }) => {
      code = await (await import('./cli-store.ts')).cmdResend(ids, o);
    });
  program
    .command('emit')
    .argument('<set>', 'the document to emit: 846')
    .requiredOption('-p, --partner <id>', 'the partner')
    .option('--full', 'a full snapshot instead of a delta')
    .description('build an outbound document now and deliver it to the partner\'s out folder')
    .action(async (set: string, o: { partner: string; full?: boolean }) => {
      if (set !== '846') throw new CommanderError(2, 'GW_USAGE', `cannot emit ${set} (only 846)`);
      code = await (await import('./cli-store.ts')).cmdEmit846(o);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.exitCode !== 2) process.stderr.write(`${e.message}\n`);
      return 2;
    }
    if (e instanceof GatewayError) {
      process.stderr.write(JSON.stringify({ code: e.code, message: e.message }) + '\n');
      return e.code === 'GW_NOT_FOUND' ? 1 : 2;
    }
    // The store stayed locked by a running gateway longer than the command waits: say so, no trace.
    if ((e as { code?: unknown }).code === 'SQLITE_BUSY' || /\bSQLITE_BUSY\b/.test(String((e as Error)?.message))) {
      process.stderr.write(JSON.stringify({ code: 'GW_STORE_BUSY', message: `${ERRORS.GW_STORE_BUSY.message} (${String((e as Error).message).slice(0, 200)})` }) + '\n');
      return 3;
    }
    throw e;
  }
  return code;
}
