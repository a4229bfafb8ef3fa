// What page 09 ("Benchmarks that mislead") says the learner will see of a service with two
// workers, read back from a real Prometheus that scraped the real servers under real load.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { stackSkip, startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { launch, type Running } from '../../harness/servers.js';
import { expand, panelQueries, startProcessExporter } from '../helpers/stack.js';

const skip = stackSkip();

// Services as docker-compose.yml names them, and how each is launched.
// Services as docker-compose.yml names them, and how each is launched.
const SERVICES: Record<string, string[]> = {
  'hello-world-v3-2': ['hello-world-v3/app-2'],
  'hello-world-v3-2-workers': ['hello-world-v3/app-2', '--workers', '2'],
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
});
