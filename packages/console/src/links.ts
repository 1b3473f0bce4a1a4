/** The console's addresses of the pages of one object, for links between pages. */

export const hostHref = (name: string): string => `/hosts/${encodeURIComponent(name)}`;

export const appHref = (appkey: string): string => `/apps/${encodeURIComponent(appkey)}`;

/** `${base}/{appkey}/{id}`: the address of a page about one set. */
const ofSet = (base: string) => (s: { appkey: string; id: string | number }): string =>
  `${base}/${encodeURIComponent(s.appkey)}/${encodeURIComponent(String(s.id))}`;

export const setHref = ofSet('/sets');

/** A set's volume and its snapshots. */
export const volumeHref = ofSet('/volumes');
