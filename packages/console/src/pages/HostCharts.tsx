/** A host's metrics of the last 30 minutes: CPU, memory, load, volume pool and uplink traffic. */
import { useMemo } from 'react';
import type { HostMetrics } from '@wharf/types';
import { SLOW_REFRESH_MS, useApi } from '../api.js';
import { Chart, type Series } from '../components/Chart.js';
import { Data, Empty } from '../components/States.js';
import { bytes, cores } from '../format.js';

const rate = (n: number) => `${bytes(n)}/s`;

interface Panel {
  title: string;
  series: Series[];
  format?: (n: number) => string;
}

function panels(points: HostMetrics[]): Panel[] {
  const pick = (f: (p: HostMetrics) => number | undefined) => points.map((p) => f(p) ?? null);
  const list: Panel[] = [
    { title: 'CPU cores', series: [{ label: 'busy', values: pick((p) => p.cpu) }, { label: 'cores', values: pick((p) => p.cpus) }], format: cores },
    { title: 'Memory', series: [{ label: 'used', values: pick((p) => p.memory) }, { label: 'total', values: pick((p) => p.memoryTotal) }], format: bytes },
    {
      title: 'Load',
      series: [
        { label: '1 min', values: pick((p) => p.load1) },
        { label: '5 min', values: pick((p) => p.load5) },
        { label: '15 min', values: pick((p) => p.load15) },
      ],
      format: cores,
    },
  ];
  if (points.some((p) => p.poolSize !== undefined)) {
    list.push({ title: 'Volume pool', series: [{ label: 'used', values: pick((p) => p.poolUsed) }, { label: 'size', values: pick((p) => p.poolSize) }], format: bytes });
  }
  const uplinks = [...new Set(points.flatMap((p) => p.uplinks.map((u) => u.name)))];
  for (const name of uplinks) {
    const of = (p: HostMetrics) => p.uplinks.find((u) => u.name === name);
    list.push({ title: `Uplink ${name}`, series: [{ label: 'rx', values: pick((p) => of(p)?.rxBytes) }, { label: 'tx', values: pick((p) => of(p)?.txBytes) }], format: rate });
  }
  return list;
}

function Charts({ points }: { points: HostMetrics[] }) {
  // Built once per answer: new series arrays replot the charts.
  const times = useMemo(() => points.map((p) => p.time), [points]);
  const list = useMemo(() => panels(points), [points]);
  return (
    <div className="charts">
      {list.map((p) => (
        <Chart key={p.title} title={p.title} times={times} series={p.series} {...(p.format ? { format: p.format } : {})} />
      ))}
    </div>
  );
}

export function HostCharts({ name }: { name: string }) {
  const q = useApi((c) => c.hostMetrics(name, { since: '-30m' }), [name], SLOW_REFRESH_MS);
  return (
    <section className="card wide">
      <h2>Metrics (last 30 minutes)</h2>
      <Data q={q} what="metrics">
        {(h) => (h.points.length === 0 ? <Empty>No metrics from this host yet: its agent sends them with its heartbeats.</Empty> : <Charts points={h.points} />)}
      </Data>
    </section>
  );
}
