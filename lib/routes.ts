// The hello-world apps serve one route. Every other path shares one label value, so a flood
// of random URLs cannot add series without bound.
export const UNMATCHED = 'unmatched';

export function routeOf(url: string | undefined): string {
  if (url === '/') return '/';
  const path = url?.split('?', 1)[0];
  return path === '/' ? '/' : UNMATCHED;
}
