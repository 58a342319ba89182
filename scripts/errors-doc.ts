// Prints docs/errors.md from the error registry: `node --import tsx scripts/errors-doc.ts > docs/errors.md`.
// test/core/errors-doc.test.ts fails when the two drift apart.
import { ERRORS } from '../src/core/errors.ts';

export function errorsDoc(): string {
  const rows = Object.entries(ERRORS).map(([code, d]) => {
    const x = d.x12 ? Object.entries(d.x12).map(([k, v]) => `${k.toUpperCase()} ${v}`).join(', ') : '';
    return `| \`${code}\` | ${d.message} | ${d.severity} | ${d.http} | ${d.level} | ${x} |`;
  });
  return `# Error codes

Every problem the gateway reports carries one of these codes: in rejections (\`gateway translate\`
stderr, \`<file>.error.json\`, the API), in logs, and in API errors. Partner data problems map to
the X12 acknowledgment codes shown: TA1 TA105 note codes (interchange rejected), AK9 AK905
(group), AK5 AK502 (set), AK3 AK304 (segment) and AK4 AK403 (element).

Severity \`warning\` marks a flag: the document is processed and the note is kept.

| code | message | severity | HTTP | log level | X12 |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

if (process.argv[1]?.endsWith('errors-doc.ts')) process.stdout.write(errorsDoc());
