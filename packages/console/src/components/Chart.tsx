/**
 * A time-series line chart (uPlot): `series` share the x axis `times` (ISO 8601).
 * It fills its container's width; new data replaces the plotted points, and the
 * plot is built again only when its title, series or units change.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: Array<number | null>;
}

const COLOURS = ['#1f6feb', '#1a7f37', '#cf222e', '#9a6700', '#8250df', '#0a7d8c'];
const HEIGHT = 180;

const aligned = (times: string[], series: Series[]) => [times.map((t) => Date.parse(t) / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData;

export function Chart({ title, times, series, format }: { title: string; times: string[]; series: Series[]; format?: (n: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = useRef({ times, series });
  data.current = { times, series };
  // The series' names stand for the plot's shape.
  const labels = series.map((s) => s.label).join('\n');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      title,
      width: Math.max(240, el.clientWidth),
      height: HEIGHT,
      series: [{}, ...data.current.series.map(({ label }, i) => ({ label, stroke: COLOURS[i % COLOURS.length] as string, width: 1.5, ...(format ? { value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) } : {}) }))],
      axes: [{}, { size: 70, ...(format ? { values: (_u: uPlot, vals: number[]) => vals.map(format) } : {}) }],
    };
    const p = new uPlot(opts, aligned(data.current.times, data.current.series), el);
    plot.current = p;
    const resize = new ResizeObserver(() => p.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = undefined;
    };
  }, [title, labels, format]);

  useEffect(() => {
    plot.current?.setData(aligned(times, series));
  }, [times, series]);

  return <div className="chart" ref={box} role="img" aria-label={title} />;
}
