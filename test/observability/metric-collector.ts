import { MeterProvider, MetricReader, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';

/** A MetricReader tests collect() from on demand (no timers). */
export class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface Collected {
  /** Every metric of the collection by name. */
  readonly byName: Map<string, MetricData>;
  /** Sum/gauge value of the point whose attributes match (all given keys equal). */
  value(name: string, attrs?: Record<string, string>): number | undefined;
  /** Histogram count and sum of the matching point. */
  histogram(name: string, attrs?: Record<string, string>): { count: number; sum: number } | undefined;
  /** Attribute sets of every point of a metric. */
  points(name: string): Array<Record<string, unknown>>;
}

export function createTestMeterProvider(): { meterProvider: MeterProvider; collect: () => Promise<Collected> } {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      const byName = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) byName.set(m.descriptor.name, m);
      const find = (name: string, attrs: Record<string, string> = {}) =>
        byName
          .get(name)
          ?.dataPoints.find((p) => Object.entries(attrs).every(([k, v]) => (p.attributes as Record<string, unknown>)[k] === v));
      return {
        byName,
        value(name, attrs) {
          const p = find(name, attrs);
          return p === undefined ? undefined : (p.value as number);
        },
        histogram(name, attrs) {
          const m = byName.get(name);
          if (m && m.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
          const p = find(name, attrs);
          if (!p) return undefined;
          const h = p.value as { count: number; sum?: number };
          return { count: h.count, sum: h.sum ?? NaN };
        },
        points(name) {
          return (byName.get(name)?.dataPoints ?? []).map((p) => ({ ...p.attributes }));
        },
      };
    },
  };
}
