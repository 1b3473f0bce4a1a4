/**
 * Which tags tell one series of a point name from another, in a stable order, for the
 * reporters whose series are a name plus a path (Graphite) or parameters (Zabbix).
 * A set's series do not name the host, so they stay the same when the set moves;
 * host series name the host and, for uplinks, the interface. Other tags (zone, …)
 * are left out: they describe the host rather than tell series apart.
 */
export function seriesParts(tags: Readonly<Record<string, string>>, withHost: boolean): string[] {
  const order = tags.set !== undefined ? ['tenant', 'appkey', 'set', 'container'] : [...(withHost ? ['host'] : []), 'uplink'];
  return order.flatMap((key) => {
    const value = tags[key];
    return value === undefined ? [] : [value];
  });
}
