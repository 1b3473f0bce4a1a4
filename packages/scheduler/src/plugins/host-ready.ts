import type { FilterPlugin } from '../framework.js';

/** Only hosts whose agent is heartbeating and that are not cordoned take new sets. */
export const hostReady: FilterPlugin = {
  name: 'HostReady',
  filter(host) {
    if (!host.ready) return 'host is not ready (no recent heartbeat)';
    if (host.cordoned) return 'host is cordoned';
    return undefined;
  },
};
