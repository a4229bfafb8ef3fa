// The last `limit` characters a terminal printed, kept as its chunks: appending is O(1)
// (a string of 256 KiB rebuilt for every chunk of `yes` cost its event loop a copy each
// time), and the text is joined only when a client attaches.
export function createReplay(limit: number) {
  const chunks: string[] = [];
  let length = 0;
  return {
    push(chunk: string): void {
      chunks.push(chunk);
      length += chunk.length;
      while (length > limit) {
        const first = chunks[0] ?? '';
        if (length - first.length >= limit) {
          chunks.shift();
          length -= first.length;
        } else {
          chunks[0] = first.slice(length - limit);
          length = limit;
        }
      }
    },
    text(): string {
      const joined = chunks.join('');
      chunks.length = 0;
      chunks.push(joined);
      return joined;
    },
  };
}
