// A promise's outcome, or a rejection when it takes longer than a bound. The slow work is not
// cancelled (a DNS query or an HTTPS fetch has its own end); only the wait for it is.

/** Settles like `work`, or rejects with `late()` after `ms` milliseconds. */
export async function within<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
