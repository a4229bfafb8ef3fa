// node:http's hello world under OpenTelemetry's HTTP instrumentation, its metrics served by
// the Prometheus exporter. CommonJS, because the instrumentation patches require('http').
import otelApi = require('@opentelemetry/api');
import sdkMetrics = require('@opentelemetry/sdk-metrics');
import promExporter = require('@opentelemetry/exporter-prometheus');
import instrumentation = require('@opentelemetry/instrumentation');
import httpInstrumentation = require('@opentelemetry/instrumentation-http');

const exporter = new promExporter.PrometheusExporter({ preventServerStart: true });
const meterProvider = new sdkMetrics.MeterProvider({ readers: [exporter] });
otelApi.metrics.setGlobalMeterProvider(meterProvider);
instrumentation.registerInstrumentations({
  instrumentations: [new httpInstrumentation.HttpInstrumentation()],
  meterProvider,
});

// Loaded only now, so that the instrumentation has patched it.
const http = require('http') as typeof import('node:http');

const server = http.createServer((req, res) => {
  if (req.url === '/metrics') {
    exporter.getMetricsRequestHandler(req, res);
    return;
  }
  // GET, POST, ... /status/NNN: answered with status NNN, the scrape benchmark's label sets.
  const code = req.url?.startsWith('/status/') === true ? Number(req.url.slice(8)) : 200;
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('Hello World!');
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
