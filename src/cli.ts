import { createHash } from 'node:crypto';
import path from 'node:path';
import { PROJECT_ROOT } from './core/paths.ts';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { directoryOf, loadConfig, readMappingFiles, type GatewayConfig } from './config/load-config.ts';
import { ERRORS, GatewayError, type ErrorCode } from './core/errors.ts';
import { isError } from './core/rejection.ts';
import { MappingRegistry } from './mapping/registry.ts';
import { buildPlannedAcks, planFileAcks } from './pipeline/acks-for.ts';
import { SpillSink } from './pipeline/spill-sink.ts';
import type { TranslateSink } from './pipeline/translate-x12.ts';
import { allRejections, translateX12, type TranslateResult } from './pipeline/translate-x12.ts';
import { detectFormat } from './pipeline/detect-format.ts';
import { translateXml, type XmlTranslateResult } from './pipeline/translate-xml.ts';

/**
 * `gateway start | translate FILE [--partner ID] | ack FILE [--partner ID] | ...`
 * Exit codes: 0 all accepted, 1 something rejected (or not found), 2 usage or configuration error
 * (or the gateway could not start), 3 the store stayed busy, 70 a fault of ours.
 *
 * Every non-zero exit says what went wrong, once: one line with the code and the problem, and the
 * fix (on a terminal as text, otherwise as one JSON line `{code, severity, message, fix}`, beside the JSON
 * rejection lines); configuration problems come one per line before it, each with its file, path
 * and reason.
 */

/** A failure the CLI reports: the problem in one line and how to fix it. */
export class CliFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fix: string,
    readonly exitCode = 2,
    readonly problems: { file: string; path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

const HELP = 'run `gateway --help` (or `gateway <command> --help`)';
const usage = (message: string, fix = HELP) => new CliFailure('GW_USAGE', message, fix);

/** The fix for each failure a command can end with. */
const FIXES: Partial<Record<ErrorCode, string>> = {
  GW_CONFIG_INVALID: 'correct each problem above in the file it names (config/gateway.yaml, config/partners/*.yaml; README "Configuration"), then run again',
  GW_MAPPING_INVALID: 'correct each problem above in the mapping file it names (mappings/; README "Mapping configs"), then run again',
  GW_DATA_DIR_LOCKED: 'stop the other gateway, or give this one a data dir of its own (GATEWAY_DATA_DIR); several instances on one store need PostgreSQL (DATABASE_URL)',
  GW_PORT_IN_USE: 'stop the program listening there, or set PORT to a free port (PORT=0 picks one)',
  GW_STORE_BUSY: 'run the command again in a moment (the running gateway holds the store while it writes a large file)',
  GW_NOT_FOUND: 'check the id or number: the list commands (held, supply, items, oversells) and GET /orders show what there is',
  GW_USAGE: HELP,
  GW_INTERNAL: 'this is a fault of the gateway, not of your input: run again with GATEWAY_DEBUG=1 for the stack trace, and report it',
};

const EXIT: Partial<Record<ErrorCode, number>> = { GW_NOT_FOUND: 1, GW_STORE_BUSY: 3, GW_INTERNAL: 70 };

function asFailure(e: unknown): CliFailure {
  if (e instanceof CliFailure) return e;
  if (e instanceof CommanderError) {
    // Commander's own words ("error: unknown command 'x'", "(Did you mean y?)") on one line.
    const message = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
    return usage(message);
  }
  if (e instanceof GatewayError) {
    const problems = Array.isArray(e.details) ? (e.details as { file?: unknown; path?: unknown; message?: unknown }[]).filter((p) => typeof p?.message === 'string').map((p) => ({ file: String(p.file ?? ''), path: String(p.path ?? ''), message: String(p.message) })) : [];
    const message = problems.length ? `${ERRORS[e.code].message}: ${problems.length} problem${problems.length === 1 ? '' : 's'}` : e.message;
    return new CliFailure(e.code, message, FIXES[e.code] ?? HELP, EXIT[e.code] ?? 2, problems);
  }
  // The store stayed locked by a running gateway longer than the command waits: say so, no trace.
  if ((e as { code?: unknown }).code === 'SQLITE_BUSY' || /\bSQLITE_BUSY\b/.test(String((e as Error)?.message))) {
    return new CliFailure('GW_STORE_BUSY', `${ERRORS.GW_STORE_BUSY.message} (${String((e as Error).message).slice(0, 200)})`, FIXES.GW_STORE_BUSY!, 3);
  }
  if (process.env.GATEWAY_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  return new CliFailure('GW_INTERNAL', String((e as Error)?.message ?? e).split('\n')[0], FIXES.GW_INTERNAL!, 70);
}

export function report(f: CliFailure): void {
  const err = process.stderr;
  if (err.isTTY) {
    for (const p of f.problems) err.write(`  ${p.file}: ${p.path}: ${p.message}\n`);
    err.write(`gateway: ${f.message} [${f.code}]\n  fix: ${f.fix}\n`);
    return;
  }
  for (const p of f.problems) err.write(JSON.stringify({ code: f.code, severity: 'error', file: p.file, path: p.path, message: p.message }) + '\n');
  err.write(JSON.stringify({ code: f.code, severity: 'error', message: f.message, fix: f.fix }) + '\n');
}

/** Options given as numbers: a whole number from 1. */
function positiveInt(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} is a whole number from 1`);
    return v;
  };
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
function setup(): { config: GatewayConfig; mappings: MappingRegistry } {
  const config = loadConfig();
  const mappings = new MappingRegistry();
  const problems = mappings.loadAll(readMappingFiles(config.mappingsDir));
  if (problems.length) {
    throw new GatewayError('GW_MAPPING_INVALID', problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'), problems);
  }
  return { config, mappings };
}

async function translateFile(file: string, partnerId: string | undefined, sink: TranslateSink) {
  if (!existsSync(file)) throw usage(`no such file: ${file}`, 'give the path of an X12 or XML file (relative to the current directory)');
  if (!statSync(file).isFile()) throw usage(`${file} is not a file`, 'give the path of one X12 or XML file, not a directory');
  const { config, mappings } = setup();
  const partners = directoryOf(config);
  if (partnerId && !partners.get(partnerId)) throw usage(`unknown partner ${partnerId}`, `use one of the configured partners (${config.partners.map((p) => p.id).join(', ')}), or leave --partner out to go by the envelope's sender`);
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
  return { result, format, partners, xml };
}

async function cmdTranslate(file: string, opts: { partner?: string }): Promise<number> {
  // Events go out as their interchange is settled, through spill files: nothing is held whole.
  const sink = new SpillSink(process.stdout);
  let translated;
  try {
    translated = await translateFile(file, opts.partner, sink);
  } finally {
    sink.close();
  }
  const { result, format, xml } = translated;
  if (xml) {
    for (const e of xml.events) process.stdout.write(JSON.stringify(e) + '\n');
    for (const r of xml.rejections) process.stderr.write(JSON.stringify(r) + '\n');
    return xml.rejections.some(isError) ? 1 : 0;
  }
  if (!result) throw notX12(file, format, 'translate reads X12 (it begins with ISA) and XML feeds');
  const all = allRejections(result);
  for (const r of all) process.stderr.write(JSON.stringify(r) + '\n');
  const rejected = all.some(isError) || result.interchanges.some((ic) => !ic.accepted || ic.groups.some((g) => !g.accepted));
  return rejected ? 1 : 0;
}

/** A file that is not what the command reads: exit 1, as a rejected file. */
function notX12(file: string, format: string, fix: string): CliFailure {
  if (format === 'empty') return new CliFailure('GW_FILE_EMPTY', `${file} is empty`, fix, 1);
  if (format === 'xml') return new CliFailure('GW_FORMAT_UNKNOWN', `${file} is XML, not X12`, fix, 1);
  return new CliFailure('GW_FORMAT_UNKNOWN', `${file} is neither X12 nor XML`, fix, 1);
}

async function cmdAck(file: string, opts: { partner?: string }): Promise<number> {
  // The acknowledgment needs the verdicts, not the events.
  const { result, partners, format } = await translateFile(file, opts.partner, { events: () => undefined, discard: () => undefined });
  if (!result) throw notX12(file, format, format === 'xml' ? 'XML feeds get no 997: ack answers X12 interchanges (the file begins with ISA)' : 'ack answers X12 interchanges: give an X12 file (it begins with ISA)');
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
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    // Errors are reported once, by report(), with their fix; commander writes only help and version.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} });
  program
    .command('start')
    .description('run the gateway: watch drop folders, process files, send acknowledgments, serve the status API')
    .addOption(new Option('--log <format>', 'log lines as JSON (for machines) or pretty (for people)').choices(['json', 'pretty']).default(process.env.GATEWAY_LOG_FORMAT ?? 'json'))
    .option('--pretty', 'the same as --log pretty')
    .action(async (o: { log: string; pretty?: boolean }) => {
      process.env.GATEWAY_LOG_FORMAT = o.pretty ? 'pretty' : o.log;
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
    .option('-d, --document <id>', 'only this document (its id)', positiveInt('--document'))
    .option('--all', 'include item/locations where the snapshot agreed')
    .option('--limit <n>', 'at most this many lines', positiveInt('--limit'), '1000')
    .action(async (o: { partner?: string; document?: string; all?: boolean; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdDivergence(o);
    });
  program
    .command('oversells')
    .description('PO lines that were short although their partner had been promised the quantity, as JSON lines (newest first)')
    .option('-p, --partner <id>', 'only this partner')
    .option('--po <number>', 'only this PO')
    .option('--limit <n>', 'at most this many lines', positiveInt('--limit'), '1000')
    .action(async (o: { partner?: string; po?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdOversells(o);
    });
  program
    .command('held')
    .description('documents\' events held back, as JSON lines (newest first): WAITING for what they refer to, CONFLICT with what their business key had, and what became of them')
    .addOption(new Option('--status <status>', 'what became of them (default: WAITING and CONFLICT)').choices(['WAITING', 'CONFLICT', 'APPLIED', 'EXPIRED', 'DISCARDED']))
    .option('-p, --partner <id>', 'only this partner')
    .option('--limit <n>', 'at most this many lines', positiveInt('--limit'), '1000')
    .action(async (o: { status?: string; partner?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdHeld(o);
    });
  program
    .command('supply')
    .description('supplier ship notices not received in full, with what came of each line, as JSON lines')
    .option('--overdue', 'only those whose expected date has passed')
    .option('-p, --partner <id>', 'only this supplier')
    .option('--limit <n>', 'at most this many lines', positiveInt('--limit'), '1000')
    .action(async (o: { overdue?: boolean; partner?: string; limit?: string }) => {
      code = await (await import('./cli-store.ts')).cmdSupply(o);
    });
  program
    .command('items')
    .description('provisional items (ids no crosswalk knows), with their ids and where they were seen, as JSON lines')
    .addOption(new Option('--status <status>', 'which items').choices(['PROVISIONAL', 'PROMOTED', 'MERGED']).default('PROVISIONAL'))
    .option('--limit <n>', 'at most this many lines', positiveInt('--limit'), '1000')
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
    .command('drop')
    .argument('<file>', 'an X12 or XML file')
    .requiredOption('-p, --partner <id>', 'the partner whose in folder it goes to')
    .option('--as <name>', 'the file name in the folder (default: its own)')
    .option('--timeout <seconds>', 'how long to wait', positiveInt('--timeout'), '30')
    .description('put a file in a partner\'s in folder and wait until the running gateway processed it and sent what it sends back (997s, 846s, 856s): prints the document and what went out; exit 1 if it was rejected')
    .action(async (file: string, o: { partner: string; as?: string; timeout?: string }) => {
      code = await (await import('./cli-store.ts')).cmdDrop(file, o);
    });
  program
    .command('emit')
    .argument('<set>', 'the document to emit: 846')
    .requiredOption('-p, --partner <id>', 'the partner')
    .option('--full', 'a full snapshot instead of a delta')
    .description('build an outbound document now and deliver it to the partner\'s out folder')
    .action(async (set: string, o: { partner: string; full?: boolean }) => {
      if (set !== '846') throw usage(`cannot emit ${set}: only the 846 is built on demand`, `run gateway emit 846 --partner ${o.partner}; 855s, 940s and 856s follow their orders and shipments`);
      code = await (await import('./cli-store.ts')).cmdEmit846(o);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return 0;
    const f = asFailure(e);
    report(f);
    return f.exitCode;
  }
  return code;
}
