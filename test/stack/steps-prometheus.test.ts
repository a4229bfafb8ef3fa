// What the workshop pages for steps 4 to 7 say the learner will see, read back from a real
// Prometheus that scraped the real servers under real load: the dashboards' data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { load, specs, start, type Running as BenchServer } from '../../bench/servers.js';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { build, launch, type Running } from '../../harness/servers.js';
import { expand, needTool, panelQueries, startProcessExporter } from '../helpers/stack.js';

const skip =
  needTool('prometheus', 'apt-get install prometheus') ||
  needTool('prometheus-process-exporter', 'apt-get install prometheus-process-exporter');

// Services as docker-compose.yml names them, and how each is launched.
const SERVICES: Record<string, string[]> = {
  'hello-world-v3-1': ['hello-world-v3/app-1'],
  'hello-world-v3-2': ['hello-world-v3/app-2'],
  'hello-world-v3-2-workers': ['hello-world-v3/app-2', '--workers', '2'],
  'hello-world-v4-1': ['hello-world-v4/app-1'],
  'hello-world-v4-2': ['hello-world-v4/app-2'],
  'hello-world-v5-1': ['hello-world-v5/app-1'],
  'hello-world-v5-2': ['hello-world-v5/app-2'],
  'hello-world-v6-1': ['hello-world-v6/app-1'],
  'hello-world-v6-2': ['hello-world-v6/app-2'],
  'hello-world-v1': ['hello-world-v1'],
  'hello-world-v7-2': ['hello-world-v7/app-2'],
};

interface Stack {
  prometheus: Prometheus;
  servers: Record<string, Running>;
  // A value per service, as `sum by (job)` gives it.
  byJob(promql: string, at: number): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function stack(services: string[], { processes = false } = {}): Promise<Stack> {
  const launched = await Promise.all(services.map((s) => launch(SERVICES[s] ?? [])));
  const servers = Object.fromEntries(services.map((s, i) => [s, launched[i] as Running]));
  // The process exporter, with the repository's grouping, for the environment's processes panel.
  const exporter = processes ? await startProcessExporter() : undefined;
  const jobs = Object.fromEntries(services.map((s) => [s, servers[s]?.url ?? '']));
  const prometheus = await startPrometheus(
    exporter === undefined ? jobs : { ...jobs, 'process-exporter': exporter.hostPort },
  );
  return {
    prometheus,
    servers,
    async byJob(promql, at) {
      const rows = await prometheus.query(`sum by (job) (${promql})`, at);
      return Object.fromEntries(rows.map((r) => [r.metric['job'] ?? '', r.value]));
    },
    async stop() {
      await prometheus.stop();
      await exporter?.stop();
      await Promise.all(launched.map((s) => s.stop()));
    },
  };
}

// The same load on every service at once, so a busy machine slows them all alike; CPU per
// request from Prometheus's samples at the start and the end of the load.
async function cpuPerRequest(
  s: Stack,
  services: string[],
  amount: number,
  rate: number,
): Promise<Record<string, number>> {
  const load = (n: number) =>
    Promise.all(
      services.map((name) =>
        autocannon({
          url: `${s.servers[name]?.url ?? ''}/`,
          amount: n,
          connections: 3,
          overallRate: rate,
        }),
      ),
    );
  await load(amount / 4); // warm-up: the JIT compiles the request path before anything counts
  const t0 = await s.prometheus.scraped();
  await load(amount);
  const t1 = await s.prometheus.scraped();
  const [cpu0, cpu1, req0, req1] = await Promise.all([
    s.byJob('process_cpu_seconds_total', t0),
    s.byJob('process_cpu_seconds_total', t1),
    s.byJob('http_requests_total', t0),
    s.byJob('http_requests_total', t1),
  ]);
  return Object.fromEntries(
    services.map((name) => {
      const requests = (req1[name] ?? 0) - (req0[name] ?? 0);
      assert.equal(requests, amount, `${name} counted ${requests} of ${amount} requests`);
      return [name, (((cpu1[name] ?? 0) - (cpu0[name] ?? 0)) / requests) * 1e6];
    }),
  );
}

describe('page "Reporting every request": Process Info under the same load', { skip }, () => {
  const services = ['hello-world-v3-2', 'hello-world-v4-1', 'hello-world-v4-2'];
  let s: Stack;
  let cpu: Record<string, number>;
  before(async () => {
    s = await stack(services);
    cpu = await cpuPerRequest(s, services, 20_000, 1000);
    console.log(cpu);
  });
  after(() => s.stop());

  it('hello-world-v4-1 and v4-2 use more CPU per request than hello-world-v3-2', () => {
    for (const v4 of ['hello-world-v4-1', 'hello-world-v4-2']) {
      assert.ok(
        (cpu[v4] ?? 0) > (cpu['hello-world-v3-2'] ?? 0) * 1.05,
        `${v4}: ${cpu[v4]} µs vs ${cpu['hello-world-v3-2']} µs`,
      );
    }
  });

  it('hello-world-v4-2 (buffered) uses about as much as hello-world-v4-1', () => {
    const ratio = (cpu['hello-world-v4-2'] ?? 0) / (cpu['hello-world-v4-1'] ?? 1);
    assert.ok(ratio > 0.9 && ratio < 1.1, `buffered/sync ${ratio.toFixed(3)}`);
  });
});

describe('page "Benchmarks that mislead": two workers, one scrape', { skip }, () => {
  let s: Stack;
  before(
    async () =>
      (s = await stack(['hello-world-v3-2', 'hello-world-v3-2-workers'], { processes: true })),
  );
  after(() => s.stop());

  it('Raw Requests counts exactly the 1,000 requests sent to two workers, in one series', async () => {
    const t0 = await s.prometheus.scraped();
    const result = await autocannon({
      url: `${s.servers['hello-world-v3-2-workers']?.url ?? ''}/`,
      amount: 1000,
      connections: 8,
    });
    assert.equal(result['2xx'], 1000);
    const t1 = await s.prometheus.scraped();
    const series = await s.prometheus.query(
      'http_requests_total{job="hello-world-v3-2-workers"}',
      t1,
    );
    assert.equal(series.length, 1);
    const before = await s.byJob('http_requests_total{job="hello-world-v3-2-workers"}', t0);
    assert.equal((series[0]?.value ?? 0) - (before['hello-world-v3-2-workers'] ?? 0), 1000);
  });

  it('Process Info shows each worker of the service, and both worked', async () => {
    const at = await s.prometheus.scraped();
    const rows = await s.prometheus.query(
      'increase(process_cpu_seconds_total{job="hello-world-v3-2-workers"}[1m])',
      at,
    );
    assert.deepEqual(rows.map((r) => r.metric['worker']).sort(), ['1', '2']);
    for (const r of rows) assert.ok(r.value > 0, `worker ${r.metric['worker'] ?? ''}`);
  });

  it("CPU of the environment's processes shows the two-worker service apart from the single process", async () => {
    const panel = panelQueries('process-info').find(
      (q) => q.panel === "CPU of the environment's processes",
    );
    // A rate needs two scrapes of the exporter: wait for them, up to 20 s.
    let at = 0;
    let groups: (string | undefined)[] = [];
    for (let i = 0; i < 20 && !groups.includes('hello-world-v3/app-2 --workers'); i++) {
      at = await s.prometheus.scraped();
      const rows = await s.prometheus.query(
        expand(panel?.expr ?? '', {}, { scrape: 1, interval: 30 }),
        at,
      );
      groups = rows.map((r) => r.metric['groupname']);
    }
    for (const group of ['hello-world-v3/app-2', 'hello-world-v3/app-2 --workers'])
      assert.ok(groups.includes(group), `${group} in ${groups.join(', ')}`);
    const procs = await s.prometheus.query(
      'namedprocess_namegroup_num_procs{groupname="hello-world-v3/app-2 --workers"}',
      at,
    );
    assert.ok((procs[0]?.value ?? 0) >= 3, 'the primary and its two workers');
  });

  it('the two workers together spend at least as much CPU per request as one process', async () => {
    const cpu = await cpuPerRequest(
      s,
      ['hello-world-v3-2', 'hello-world-v3-2-workers'],
      20_000,
      1000,
    );
    console.log(cpu);
    assert.ok(
      (cpu['hello-world-v3-2-workers'] ?? 0) > (cpu['hello-world-v3-2'] ?? 0) * 0.95,
      JSON.stringify(cpu),
    );
  });
});

describe('page "Request events": server and framework events', { skip }, () => {
  const streamed = ['hello-world-v3-1', 'hello-world-v5-1', 'hello-world-v6-1'];
  const plain = ['hello-world-v3-2', 'hello-world-v5-2', 'hello-world-v6-2'];
  let s: Stack;
  before(async () => (s = await stack([...streamed, ...plain])));
  after(() => s.stop());

  it('Raw Requests shows 0.05 s for the streamed body, from the channel and the hooks as from the wrapper', async () => {
    await Promise.all(
      streamed.map(async (name) => {
        for (let i = 0; i < 20; i++) await (await fetch(`${s.servers[name]?.url ?? ''}/`)).text();
      }),
    );
    const at = await s.prometheus.scraped();
    const sum = await s.byJob('http_request_duration_seconds_sum{route="/"}', at);
    const count = await s.byJob('http_request_duration_seconds_count{route="/"}', at);
    for (const name of streamed) {
      assert.equal(count[name], 20, name);
      const mean = (sum[name] ?? 0) / 20;
      assert.ok(mean >= 0.05 && mean <= 0.08, `${name}: mean ${mean} s`);
    }
  });

  it('the channel costs within about 15% of the wrapper; the fastify app costs more', async () => {
    const cpu = await cpuPerRequest(s, plain, 20_000, 1000);
    console.log(cpu);
    const channel = (cpu['hello-world-v5-2'] ?? 0) / (cpu['hello-world-v3-2'] ?? 1);
    // Measured 0.97 to 1.09 (1.09 against the one-listener wrapper): close, not equal.
    assert.ok(channel > 0.85 && channel < 1.15, `channel/wrapper ${channel.toFixed(3)}`);
    assert.ok(
      (cpu['hello-world-v6-2'] ?? 0) > (cpu['hello-world-v3-2'] ?? 0) * 1.03,
      JSON.stringify(cpu),
    );
  });
});

describe('page "Recording cheaply": Process Info under the same saturating load', { skip }, () => {
  // Measured as the benchmark measures: compiled servers on CPU 0, the load from a process of
  // its own on CPU 1, one service at a time and in turns. Launched under tsx and loaded from
  // this process, the same servers spent twice the CPU per request and the tenth sought
  // drowned in the noise (one CI run read v1 25.5, v3-2 24.0, v7-2 26.3 µs).
  const variants: Record<string, string> = {
    'hello-world-v1': 'hello-world-v1',
    'hello-world-v3-2': 'hello-world-v3/app-2',
    'hello-world-v7-2': 'hello-world-v7/app-2',
  };
  const services = Object.keys(variants);
  const servers: Record<string, BenchServer> = {};
  let prometheus: Prometheus;
  const cpu: Record<string, number> = {};
  before(async () => {
    build();
    for (const name of services) {
      const spec = specs().find((s) => s.name === variants[name]);
      assert.ok(spec, `bench/servers.ts has no ${variants[name]}`);
      servers[name] = await start(spec, 0);
    }
    prometheus = await startPrometheus(
      Object.fromEntries(services.map((n) => [n, servers[n]?.url ?? ''])),
    );
    const url = (name: string): string => servers[name]?.url ?? '';
    for (const name of services) await load(url(name), 2, 32); // warm-up: compile the request path first
    const requests: Record<string, number> = {};
    const t0 = await prometheus.scraped();
    for (let round = 0; round < 6; round++) {
      for (const name of round % 2 === 0 ? services : [...services].reverse()) {
        const result = await load(url(name), 3, 32);
        assert.equal(result.errors + result.non2xx, 0, `${name}: every request answered 200`);
        requests[name] = (requests[name] ?? 0) + result.requests;
      }
    }
    const t1 = await prometheus.scraped();
    const byJob = async (at: number) =>
      Object.fromEntries(
        (await prometheus.query('sum by (job) (process_cpu_seconds_total)', at)).map((r) => [
          r.metric['job'] ?? '',
          r.value,
        ]),
      );
    const [cpu0, cpu1] = await Promise.all([byJob(t0), byJob(t1)]);
    for (const name of services)
      cpu[name] = (((cpu1[name] ?? 0) - (cpu0[name] ?? 0)) / (requests[name] ?? 1)) * 1e6;
    console.log(cpu);
  });
  after(async () => {
    await prometheus.stop();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  it('hello-world-v7-2 uses less CPU per request than hello-world-v3-2', () => {
    assert.ok(
      (cpu['hello-world-v7-2'] ?? Infinity) < (cpu['hello-world-v3-2'] ?? 0),
      JSON.stringify(cpu),
    );
  });
});
