/**
 * A time-series line chart (uPlot): `series` share the x axis `times` (ISO 8601).
 * It fills its container's width and redraws when the data changes.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: Array<number | null>;
}

const COLOURS = ['#1f6feb', '#1a7f37', '#cf222e', '#9a6700', '#8250df', '#0a7d8c'];

export function Chart({ title, times, series, format }: { title: string; times: string[]; series: Series[]; format?: (n: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data = [times.map((t) => Date.parse(t) / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData;
    const opts: uPlot.Options = {
      title,
      width: Math.max(240, el.clientWidth),
      height: 180,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length] as string, width: 1.5, ...(format ? { value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) } : {}) }))],
      axes: [{}, { size: 70, ...(format ? { values: (_u: uPlot, vals: number[]) => vals.map(format) } : {}) }],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [title, times, series, format]);

  return <div className="chart" ref={box} role="img" aria-label={title} />;
}
