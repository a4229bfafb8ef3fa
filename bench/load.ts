// One autocannon run in its own process (pinned apart from the server): prints its result
// as one JSON line. Arguments: URL SECONDS CONNECTIONS
import autocannon from 'autocannon';

const [url = '', seconds = '10', connections = '32'] = process.argv.slice(2);
const result = await autocannon({
  url,
  duration: Number(seconds),
  connections: Number(connections),
  pipelining: 1,
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    duration: result.duration,
  })}\n`,
);
