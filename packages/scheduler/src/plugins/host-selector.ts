import type { FilterPlugin } from '../framework.js';

/** `placement.hostSelector`: only hosts carrying all these labels with these values. */
export const hostSelector: FilterPlugin = {
  name: 'HostSelector',
  stage: 'select',
  prepare({ topology: t, placement }) {
    const wanted = Object.entries(placement.hostSelector ?? {});
    if (wanted.length === 0) return undefined;
    const mismatch = (i: number) => {
      const labels = t.host(i).labels;
      return wanted.find(([k, v]) => labels[k] !== v);
    };
    return {
      pass: (i) => mismatch(i) === undefined,
      explain: (i) => {
        const [k, v] = mismatch(i) ?? ['', ''];
        const has = t.host(i).labels[k];
        return {
          kind: `no label ${k}=${v} (placement.hostSelector)`,
          reason: has === undefined ? `no label ${k} (placement.hostSelector wants ${k}=${v})` : `label ${k}=${has} (placement.hostSelector wants ${k}=${v})`,
        };
      },
    };
  },
};
