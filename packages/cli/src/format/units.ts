/** Small number formatters shared by the tables. */

/** 2 → "2", 0.5 → "0.5", 1.23456 → "1.235". */
export function formatCores(cores: number): string {
  return String(Number(cores.toFixed(3)));
}

/** Docker's NanoCpus → cores. */
export function nanoCpusToCores(nanoCpus: number): string {
  return formatCores(nanoCpus / 1e9);
}

/** Mbit/s as people write it: 100, 2.5, 10000 (no unit; callers add "Mbit/s"). */
export function formatMbit(mbit: number): string {
  return String(Number(mbit.toFixed(1)));
}

/** A set's bandwidth limit as the spec gives it: one number (both directions) or {egress, ingress}; absent: unlimited. */
export function bandwidthLimits(bw: number | { egress?: number; ingress?: number } | undefined): { egress?: number; ingress?: number } {
  if (typeof bw === 'number') return { egress: bw, ingress: bw };
  return { ...(bw?.egress ? { egress: bw.egress } : {}), ...(bw?.ingress ? { ingress: bw.ingress } : {}) };
}

/** "egress 100 Mbit/s, ingress 50 Mbit/s", "100 Mbit/s each way", "unlimited". */
export function describeBandwidth(bw: number | { egress?: number; ingress?: number } | undefined): string {
  const { egress, ingress } = bandwidthLimits(bw);
  if (egress === undefined && ingress === undefined) return 'unlimited';
  if (egress === ingress && egress !== undefined) return `${formatMbit(egress)} Mbit/s each way`;
  const side = (v: number | undefined) => (v === undefined ? 'unlimited' : `${formatMbit(v)} Mbit/s`);
  return `egress ${side(egress)}, ingress ${side(ingress)}`;
}
