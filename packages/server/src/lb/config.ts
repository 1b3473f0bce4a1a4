/**
 * haproxy.cfg for the apps that ask for a load balancer: one frontend and one
 * backend per app. The backend is a fixed row of disabled server slots, so sets
 * join and leave through the runtime API and only a new or removed frontend
 * needs a reload. Server states survive a reload through the state file.
 */
import { DEFAULT_LB_SLOTS, type LbSpec } from '@wharf/types';

export interface LbFrontend {
  tenant: string;
  appkey: string;
  lb: LbSpec;
}

/** HAProxy's proxy name of the app (names may hold letters, digits, '.', '_', '-', ':'). */
export function backendName(tenant: string, appkey: string): string {
  return `app:${tenant}:${appkey}`;
}

export function slotCount(lb: LbSpec): number {
  return lb.maxSets ?? DEFAULT_LB_SLOTS;
}

export interface LbPaths {
  adminSocket: string;
  stateFile: string;
}

export function renderConfig(paths: LbPaths, frontends: LbFrontend[]): string {
  const lines = [
    'global',
    `  stats socket ${paths.adminSocket} mode 600 level admin expose-fd listeners`,
    `  server-state-file ${paths.stateFile}`,
    '',
    'defaults',
    '  mode http',
    '  load-server-state-from-file global',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    // A set that went away between two runtime commands refuses the connection: try another one.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
  ];
  const sorted = [...frontends].sort((a, b) => backendName(a.tenant, a.appkey).localeCompare(backendName(b.tenant, b.appkey)));
  for (const f of sorted) {
    const name = backendName(f.tenant, f.appkey);
    lines.push(
      '',
      `frontend ${name}`,
      `  bind ${f.lb.bind ?? '0.0.0.0'}:${f.lb.port}`,
      `  default_backend ${name}`,
      '',
      `backend ${name}`,
      '  balance roundrobin',
      `  server-template s 1-${slotCount(f.lb)} 0.0.0.0:${f.lb.targetPort} disabled`,
    );
  }
  return `${lines.join('\n')}\n`;
}
