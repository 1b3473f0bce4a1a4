/**
 * Which sets use which image of the platform registry: every container of every set
 * (not being deleted) whose image names the registry's address. Pure, from the sets.
 */
import { parseImageReference, type ImageUse, type SetObject } from '@wharf/types';

/** The uses of each repository (`<tenant>/<name>`), in set order. */
export function imageUses(sets: Iterable<SetObject>, address: string): Map<string, ImageUse[]> {
  const out = new Map<string, ImageUse[]>();
  for (const s of sets) {
    if (s.deleting) continue;
    for (const c of s.spec.containers) {
      const ref = parseImageReference(c.image);
      if (ref.registry !== address) continue;
      const use: ImageUse = { tenant: s.tenant, appkey: s.appkey, id: s.id, container: c.options?.name ?? `#${c.index}`, image: c.image };
      out.set(ref.repository, [...(out.get(ref.repository) ?? []), use]);
    }
  }
  return out;
}

/** The uses that name `tag` (no tag and no digest means `latest`) or the manifest `digest`. */
export function usesOf(uses: readonly ImageUse[], tag: string, digest: string | undefined): ImageUse[] {
  return uses.filter((u) => {
    const ref = parseImageReference(u.image);
    if (ref.digest) return ref.digest === digest;
    return (ref.tag ?? 'latest') === tag;
  });
}

/** `default/com.example.web/1`, for messages. */
export function useName(u: ImageUse): string {
  return `${u.tenant}/${u.appkey}/${u.id}`;
}
