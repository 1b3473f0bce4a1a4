/**
 * Key layout in the store. Desired state (`/sets/`) is written by the API,
 * actual state (`/status/`, `/events/`) by agents' reports through the API.
 */
export const Keys = {
  setsPrefix: '/sets/',
  set: (tenant: string, appkey: string, id: string) => `/sets/${tenant}/${appkey}/${id}`,
  tenantSets: (tenant: string) => `/sets/${tenant}/`,
  statusPrefix: '/status/',
  status: (tenant: string, appkey: string, id: string) => `/status/${tenant}/${appkey}/${id}`,
  events: (tenant: string, appkey: string, id: string) => `/events/${tenant}/${appkey}/${id}`,
  /** Every set event log of a tenant: `/events/<tenant>/<appkey>/<id>`. */
  tenantEvents: (tenant: string) => `/events/${tenant}/`,
  hostsPrefix: '/hosts/',
  host: (name: string) => `/hosts/${name}`,
  /** Which certificate each joined host holds: `/auth/host-certs/<host>`. */
  hostCert: (name: string) => `/auth/host-certs/${name}`,
  /** Host certificates revoked before they expire, by SHA-256: `/auth/revoked-certs/<hex>`. */
  revokedCertsPrefix: '/auth/revoked-certs/',
  revokedCert: (fingerprint: string) => `/auth/revoked-certs/${fingerprint}`,
  token: (hash: string) => `/auth/tokens/${hash}`,
  tokensPrefix: '/auth/tokens/',
  tenantsPrefix: '/tenants/',
  tenant: (name: string) => `/tenants/${name}`,
  usersPrefix: '/users/',
  /** A tenant's quota limits. */
  quota: (tenant: string) => `/quotas/${tenant}`,
  /** Touched by every change that adds to a tenant's usage while it has a quota: the compare target that serialises admissions. */
  quotaFence: (tenant: string) => `/quota-fence/${tenant}`,
  user: (name: string) => `/users/${name}`,
  /** A user's SSH public keys (`/ssh-keys/<user>/<name>`), and which user holds a key, by the SHA-256 of its blob in hex. */
  userSshKeys: (user: string) => `/ssh-keys/${user}/`,
  sshKey: (user: string, name: string) => `/ssh-keys/${user}/${name}`,
  sshKeyOwner: (sha256Hex: string) => `/ssh-key-owners/${sha256Hex}`,
  /** Overrides set with `wharf host set` (apart from the record heartbeats rewrite). */
  hostSettingsPrefix: '/host-settings/',
  hostSettings: (name: string) => `/host-settings/${name}`,
  networksPrefix: '/networks/',
  network: (name: string) => `/networks/${name}`,
  /** One key per address a set holds: `/ipam/<network>/<ip>`. */
  ipamPrefix: '/ipam/',
  ip: (network: string, ip: string) => `/ipam/${network}/${ip}`,
  policiesPrefix: '/policies/',
  policy: (tenant: string, appkey: string, name: string) => `/policies/${tenant}/${appkey}/${name}`,
  /** Touched by every placement on a host: the compare target that serialises reservations. */
  reservationsPrefix: '/reservations/',
  reservation: (host: string) => `/reservations/${host}`,
  /** Gray image updates: `/rollouts/<tenant>/<appkey>/<number, 6 digits>`, so keys sort by number. */
  rolloutsPrefix: '/rollouts/',
  appRollouts: (tenant: string, appkey: string) => `/rollouts/${tenant}/${appkey}/`,
  rollout: (tenant: string, appkey: string, n: number) => `/rollouts/${tenant}/${appkey}/${String(n).padStart(6, '0')}`,
  /** Apps (`/apps/<tenant>/<appkey>`) and their capped event logs. */
  appsPrefix: '/apps/',
  tenantApps: (tenant: string) => `/apps/${tenant}/`,
  app: (tenant: string, appkey: string) => `/apps/${tenant}/${appkey}`,
  appEvents: (tenant: string, appkey: string) => `/app-events/${tenant}/${appkey}`,
  tenantAppEvents: (tenant: string) => `/app-events/${tenant}/`,
  /** Every set (or status) of one app: `/sets/<tenant>/<appkey>/`. */
  appSets: (tenant: string, appkey: string) => `/sets/${tenant}/${appkey}/`,
  appStatuses: (tenant: string, appkey: string) => `/status/${tenant}/${appkey}/`,
  /** A platform registry repository's record (its visibility): `/registry/repos/<tenant>/<name>`. */
  registryRepo: (repository: string) => `/registry/repos/${repository}`,
  /** Who pushed a tag when (the registry's notifications): `/registry/pushes/<tenant>/<name>:<tag>`. */
  registryPushesPrefix: '/registry/pushes/',
  registryPush: (repository: string, tag: string) => `/registry/pushes/${repository}:${tag}`,
  /** Every push record of one repository (a ':' never occurs in a repository name). */
  registryRepoPushes: (repository: string) => `/registry/pushes/${repository}:`,
  /** The servers sharing this store, by name: where each serves the API (`/servers/<name>`). */
  serversPrefix: '/servers/',
  server: (name: string) => `/servers/${name}`,
};

/** The three keys of one set. */
export function setKeys(s: { tenant: string; appkey: string; id: string }) {
  return { set: Keys.set(s.tenant, s.appkey, s.id), status: Keys.status(s.tenant, s.appkey, s.id), events: Keys.events(s.tenant, s.appkey, s.id) };
}
