/** The string patterns of names and addresses, shared by every schema. */
export const NAME_PATTERN = '^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$';
export const APPKEY_PATTERN = '^[a-z0-9]([a-z0-9_.-]{0,126}[a-z0-9])?$';
/** Short enough for Docker's network name `wharf-<name>` and for interface names. */
export const NETWORK_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$';
export const TENANT_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const IPV4_PATTERN = '^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$';
export const CIDR_PATTERN = '^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})$';
/** A network interface name (at most 15 characters). */
export const IFACE_PATTERN = '^[A-Za-z0-9_.-]{1,15}$';
/** The name of a custom metric pushed for an app (e.g. qps). */
export const METRIC_NAME_PATTERN = '^[a-z][a-z0-9_.-]{0,62}$';
