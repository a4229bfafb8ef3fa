// What the counted metrics' tests do with a pair of registries, prom-client's and ours.
import { AggregatorRegistry, type OpenMetricsContentType, Registry } from 'prom-client';

// Sets each registry to write OpenMetrics. (Declared as one content type for life; prom-client
// switches at run time.)
export function useOpenMetrics(...registries: Registry[]): void {
  for (const registry of registries)
    (registry as unknown as Registry<OpenMetricsContentType>).setContentType(
      Registry.OPENMETRICS_CONTENT_TYPE,
    );
}

// The text prom-client's cluster aggregation writes for these registries, as if each were a
// worker's.
export async function aggregated(registries: Registry[]): Promise<string> {
  const workers = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
  return await AggregatorRegistry.aggregate(workers).metrics();
}
