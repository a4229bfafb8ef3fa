// A check that fails throws CheckFailed with the one or two lines the learner reads: what is
// missing and what to do. Anything else thrown is the check's own fault.
export class CheckFailed extends Error {}

// The window and figures as a check's lines say them.
export function window(s: number): string {
  if (s % 60 === 0) return s === 60 ? 'the last minute' : `the last ${s / 60} minutes`;
  return `the last ${s} s`;
}

export function duration(s: number): string {
  if (s >= 1) return `${s.toFixed(2)} s`;
  const ms = s * 1000;
  // 54.8 ms, 45 ms, 0.18 ms: a number as short as it is exact to the tenth, or two figures.
  return `${ms >= 1 ? Number(ms.toFixed(1)) : Number(ms.toPrecision(2))} ms`;
}

export function perSecond(n: number): string {
  return n >= 100 ? Math.round(n).toString() : n.toPrecision(2);
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

// "the bombardier step above": every check after a load says the same.
export const AGAIN = 'run the bombardier step above, then check again.';

// Why fetch failed, in a word where there is one: ECONNREFUSED, ENOTFOUND, a timeout.
export function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if ((err as Error).name === 'TimeoutError') return 'no answer in 5 s';
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
