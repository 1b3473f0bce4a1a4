/**
 * How privileged the infra container can be on this host. Docker's --privileged asks
 * for every capability; where the host's bounding set lacks one (some sandboxes drop
 * CAP_SYS_RESOURCE), runc refuses to start the container at all ("unable to apply
 * caps"). `auto` then uses the closest thing: all capabilities the host has, no
 * seccomp/AppArmor confinement.
 */
import { readFileSync } from 'node:fs';
import { LINUX_CAPABILITIES } from '@wharf/types';

export interface InfraPrivilege {
  privileged: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
}

/** Capabilities missing from a bounding set ("CapBnd:" hex of /proc/PID/status) up to the kernel's last one. */
export function missingCapabilities(capBndHex: string, lastCap: number): string[] {
  const bits = BigInt(`0x${capBndHex}`);
  const missing: string[] = [];
  for (let i = 0; i <= Math.min(lastCap, LINUX_CAPABILITIES.length - 1); i++) {
    if ((bits & (1n << BigInt(i))) === 0n) missing.push(LINUX_CAPABILITIES[i]!);
  }
  return missing;
}

/** `auto`: privileged when the host has every capability, else the closest equivalent. */
export function resolvePrivilege(setting: 'auto' | boolean, missing: () => string[] = hostMissingCapabilities): InfraPrivilege {
  if (setting === true) return { privileged: true };
  if (setting === false) return { privileged: false };
  return privilegeFor(missing());
}

export function privilegeFor(missing: string[]): InfraPrivilege {
  if (missing.length === 0) return { privileged: true };
  return { privileged: false, capAdd: ['ALL'], capDrop: [...missing].sort(), securityOpt: ['apparmor=unconfined', 'seccomp=unconfined'] };
}

/** The capabilities this process's host lacks (read from procfs; none when it cannot tell). */
export function hostMissingCapabilities(pid: number | 'self' = 'self'): string[] {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    return hex && Number.isInteger(last) ? missingCapabilities(hex, last) : [];
  } catch {
    return [];
  }
}
