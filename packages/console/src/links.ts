/** The console's addresses of the pages of one object, for links between pages. */

export const hostHref = (name: string): string => `/hosts/${encodeURIComponent(name)}`;

export const appHref = (appkey: string): string => `/apps/${encodeURIComponent(appkey)}`;

export function setHref(s: { appkey: string; id: string | number }): string {
  return `/sets/${encodeURIComponent(s.appkey)}/${encodeURIComponent(String(s.id))}`;
}
