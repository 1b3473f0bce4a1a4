/** A set's CPU, memory and network over the last 30 minutes. */
import { useMemo } from 'react';
import type { SetMetricsHistory } from '@wharf/types';
import { SLOW_REFRESH_MS, useApi } from '../api.js';
import { Chart, type Series } from '../components/Chart.js';
import { Data, Empty } from '../components/States.js';
import { bytes, cores } from '../format.js';

const rate = (n: number) => `${bytes(n)}/s`;

interface Charts {
  times: string[];
  cpu: Series[];
  memory: Series[];
  net: Series[];
}

function charts(h: SetMetricsHistory): Charts {
  const pts = h.points;
  const col = (f: (p: (typeof pts)[number]) => number | undefined): Array<number | null> => pts.map((p) => f(p) ?? null);
  const withLimit = (s: Series[], limit: Series) => (limit.values.some((v) => v !== null) ? [...s, limit] : s);
  return {
    times: pts.map((p) => p.time),
    cpu: withLimit([{ label: 'used', values: col((p) => p.set.cpu) }], { label: 'limit', values: col((p) => p.set.cpuLimit) }),
    memory: withLimit([{ label: 'in use', values: col((p) => p.set.memory) }], { label: 'limit', values: col((p) => p.set.memoryLimit) }),
    net: [
      { label: 'rx', values: col((p) => p.set.rxBytes) },
      { label: 'tx', values: col((p) => p.set.txBytes) },
    ],
  };
}

function Plots({ h }: { h: SetMetricsHistory }) {
  const c = useMemo(() => charts(h), [h]);
  // Titles avoid the words of the resize form's labels, so a label finds one element.
  return (
    <div className="charts">
      <Chart title="Processor (cores)" times={c.times} series={c.cpu} format={cores} />
      <Chart title="RAM in use" times={c.times} series={c.memory} format={bytes} />
      <Chart title="Network rx/tx" times={c.times} series={c.net} format={rate} />
    </div>
  );
}

export function SetCharts({ appkey, id }: { appkey: string; id: string }) {
  const metrics = useApi((c) => c.setMetrics(appkey, id, { since: '-30m' }), [appkey, id], SLOW_REFRESH_MS);
  return (
    <Data q={metrics} what="metrics">
      {(h) => (h.points.length > 1 ? <Plots h={h} /> : <Empty>No metrics yet: the host reports them every few seconds while the set runs.</Empty>)}
    </Data>
  );
}
