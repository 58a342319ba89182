/**
 * Wait for `p` for at most `ms`: 'done' when it resolved in time, 'late' when the time ran out first
 * (`p` is left to itself). A rejection of `p` in time is passed on.
 */
export async function within(p: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  try {
    return await Promise.race([p.then(() => 'done' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
