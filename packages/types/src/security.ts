/**
 * How business containers are confined. Every business container runs unprivileged,
 * with no-new-privileges, Docker's default seccomp profile and Docker's default
 * capabilities less DROPPED_CAPABILITIES. A container's `options.security` may add
 * capabilities back or turn no-new-privileges off, as far as its tenant allows
 * (`allowedCapabilities`, `allowPrivilegeEscalation`, set by platform admins).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldError } from './errors.js';

/** Linux capability names by number (linux/capability.h), without the CAP_ prefix. */
export const LINUX_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE',
  'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE',
  'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/**
 * Docker's default capabilities that business containers do not get: raw sockets
 * (NET_RAW: packet spoofing, ARP tricks on the set's network), device nodes (MKNOD),
 * audit records (AUDIT_WRITE), file capabilities and the bounding set (SETFCAP,
 * SETPCAP) and chroot (SYS_CHROOT). What stays — CHOWN, DAC_OVERRIDE, FOWNER, FSETID,
 * KILL, SETGID, SETUID, NET_BIND_SERVICE — is what package managers (apt-get, dpkg)
 * and servers that bind low ports and switch users need.
 */
export const DROPPED_CAPABILITIES = ['AUDIT_WRITE', 'MKNOD', 'NET_RAW', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT'] as const;

/** The Docker security option every business container gets unless its spec turns it off. */
export const NO_NEW_PRIVILEGES = 'no-new-privileges:true';

export const Capability = Type.String({ minLength: 1, description: 'A Linux capability without the CAP_ prefix, e.g. NET_RAW' });

export const ContainerSecuritySpec = Type.Object(
  {
    capAdd: Type.Optional(Type.Array(Capability, {
      maxItems: LINUX_CAPABILITIES.length,
      description: "Capabilities to add to the container (its tenant's allowedCapabilities bound them)",
    })),
    noNewPrivileges: Type.Optional(Type.Boolean({
      description: "Default true. false lets setuid programs gain privileges (needs the tenant's allowPrivilegeEscalation)",
    })),
  },
  { additionalProperties: false, description: 'Beyond the default hardening of business containers' },
);
export type ContainerSecuritySpec = Static<typeof ContainerSecuritySpec>;

/** What a business container runs with: the spec's additions to the default hardening. */
export interface ResolvedSecurity {
  /** Sorted, without duplicates. */
  capAdd: string[];
  noNewPrivileges: boolean;
}

const KNOWN: ReadonlySet<string> = new Set(LINUX_CAPABILITIES);

/** Errors for capability names that are not Linux capabilities (`path` names the list). */
export function capabilityErrors(caps: readonly string[] | undefined, path: string): FieldError[] {
  return (caps ?? []).flatMap((c, i) => KNOWN.has(c) ? [] : [{
    path: `${path}[${i}]`,
    message: c === 'ALL'
      ? 'name capabilities one by one; ALL is not accepted'
      : `"${c}" is not a Linux capability (write it without CAP_, e.g. NET_RAW; known: ${LINUX_CAPABILITIES.join(', ')})`,
  }]);
}

export function resolveSecurity(spec: ContainerSecuritySpec | undefined): ResolvedSecurity {
  return { capAdd: [...new Set(spec?.capAdd ?? [])].sort(), noNewPrivileges: spec?.noNewPrivileges ?? true };
}

/** What a tenant lets its specs ask for (fields of the tenant, set by platform admins). */
export interface TenantSecurityPolicy {
  allowedCapabilities?: string[];
  allowPrivilegeEscalation?: boolean;
}

/** One thing a spec asks that its tenant does not allow. */
export interface SecurityViolation {
  /** Where the spec asks it, e.g. `containers[0].options.security.capAdd`. */
  path: string;
  /** The capability, or undefined for no-new-privileges turned off. */
  capability?: string;
}

/** What the containers of a spec ask beyond `policy`; empty when the tenant allows it all. */
export function securityBeyondPolicy(containers: readonly { options: { security?: ContainerSecuritySpec } }[], policy: TenantSecurityPolicy): SecurityViolation[] {
  const allowed = new Set(policy.allowedCapabilities ?? []);
  return containers.flatMap((c, i) => {
    const path = `containers[${i}].options.security`;
    const sec = c.options.security;
    const caps = (sec?.capAdd ?? []).filter((cap) => !allowed.has(cap)).map((capability) => ({ path: `${path}.capAdd`, capability }));
    const escalation = sec?.noNewPrivileges === false && policy.allowPrivilegeEscalation !== true ? [{ path: `${path}.noNewPrivileges` }] : [];
    return [...caps, ...escalation];
  });
}
