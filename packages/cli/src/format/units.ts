/** Small number formatters shared by the tables. */

/** 2 → "2", 0.5 → "0.5", 1.23456 → "1.235". */
export function formatCores(cores: number): string {
  return String(Number(cores.toFixed(3)));
}

/** Docker's NanoCpus → cores. */
export function nanoCpusToCores(nanoCpus: number): string {
  return formatCores(nanoCpus / 1e9);
}
