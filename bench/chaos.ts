/**
 * Issue 12: chaos across instances.
 *   npm run chaos            (1,000 files, 3 instances)
 *   node --import tsx bench/chaos.ts --files 300 --instances 3 --seed 7
 * Three gateway processes on one throwaway PostgreSQL cluster and one data dir, a real sshd; 850s
 * on the retailer's folder and SFTP channels and on the second retailer's folder, 846 snapshots
 * from the 3PL; instances killed with SIGKILL at random moments and restarted. Prints files,
 * kills, the invariants checked and their violations; exits 1 on any violation.
 */
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/store/postgres.ts';
import { startSshd } from '../test/transport/sshd.ts';
import { describe, runChaos } from '../test/integration/chaos-lib.ts';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '3' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    'lease-ms': { type: 'string', default: '3000' },
    'write-s': { type: 'string', default: '' },
  },
});
const files = Number(values.files);
const pg = await startPostgres();
const sshd = await startSshd();
if (!pg || !sshd) {
  console.error('chaos needs PostgreSQL server binaries and openssh-server (.ci/run installs both)');
  process.exit(1);
}
try {
  const seed = Number(values.seed);
  console.log(`chaos: ${files} files, ${values.instances} instances, seed ${seed}`);
  const report = await runChaos(pg, sshd, {
    files,
    instances: Number(values.instances),
    leaseMs: Number(values['lease-ms']),
    killEveryMs: [1000, 4000],
    downMs: [200, 1500],
    writeSpanMs: values['write-s'] ? Number(values['write-s']) * 1000 : files * 60,
    quiesceTimeoutMs: 300_000,
    seed,
    log: (l) => console.log(`  ${l}`),
  });
  console.log(describe(report));
  process.exitCode = report.violations ? 1 : 0;
} finally {
  await sshd.stop();
  pg.stop();
}
