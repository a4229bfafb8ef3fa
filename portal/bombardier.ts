// bombardier's command-line flags (v1.2.x and v2.0), as the loadgen service passes them on.
// `value` says what the flag takes; booleans take nothing.
type Value = 'count' | 'duration' | 'text' | 'none';

const FLAGS: Array<[short: string | null, long: string, value: Value]> = [
  ['c', 'connections', 'count'],
  ['t', 'timeout', 'duration'],
  ['l', 'latencies', 'none'],
  ['m', 'method', 'text'],
  ['b', 'body', 'text'],
  ['f', 'body-file', 'text'],
  ['s', 'stream', 'none'],
  [null, 'cert', 'text'],
  [null, 'key', 'text'],
  ['k', 'insecure', 'none'],
  ['H', 'header', 'text'],
  ['n', 'requests', 'count'],
  ['d', 'duration', 'duration'],
  ['r', 'rate', 'count'],
  [null, 'fasthttp', 'none'],
  [null, 'http1', 'none'],
  [null, 'http2', 'none'],
  ['p', 'print', 'text'],
  ['q', 'no-print', 'none'],
  ['o', 'format', 'text'],
  ['a', 'disableKeepAlives', 'none'],
];

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function valid(value: Value, text: string): boolean {
  if (value === 'count') return /^[1-9]\d*$/.test(text);
  if (value === 'duration') return GO_DURATION.test(text);
  return text !== '';
}

// Returns the problems with a bombardier argument list and the URLs it names.
export function checkBombardier(args: string[]): { problems: string[]; urls: string[] } {
  const problems: string[] = [];
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-')) {
      urls.push(arg);
      continue;
    }
    const [name = '', inline] = arg.startsWith('--')
      ? arg.slice(2).split(/=(.*)/s, 2)
      : [arg.slice(1, 2), arg.length > 2 ? arg.slice(2) : undefined];
    const flag = FLAGS.find(([short, long]) =>
      arg.startsWith('--') ? long === name : short === name,
    );
    if (flag === undefined) {
      problems.push(`bombardier has no flag ${arg.startsWith('--') ? `--${name}` : `-${name}`}`);
      continue;
    }
    if (flag[2] === 'none') continue;
    const value = inline ?? args[++i];
    if (value === undefined || !valid(flag[2], value)) {
      problems.push(
        `bombardier's --${flag[1]} takes a ${flag[2] === 'count' ? 'positive whole number' : flag[2] === 'duration' ? 'duration such as 120s' : 'value'}, not ${value === undefined ? 'nothing' : `"${value}"`}`,
      );
    }
  }
  if (urls.length !== 1) problems.push(`bombardier takes one URL, not ${urls.length}`);
  return { problems, urls };
}
