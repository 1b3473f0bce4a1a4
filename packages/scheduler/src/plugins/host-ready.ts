import type { FilterPlugin } from '../framework.js';

const NOT_READY = { kind: 'host is not ready (no recent heartbeat)', reason: 'host is not ready (no recent heartbeat)' };
const CORDONED = { kind: 'host is cordoned', reason: 'host is cordoned' };

/** Only hosts whose agent is heartbeating and that are not cordoned take new sets. */
export const hostReady: FilterPlugin = {
  name: 'HostReady',
  stage: 'check',
  prepare({ topology: t }) {
    const ok = t.schedulable;
    return {
      pass: (i) => ok[i] === 1,
      explain: (i) => (t.host(i).ready ? CORDONED : NOT_READY),
    };
  },
};
