/** Image references as Docker spells them: `[REGISTRY/]PATH[:TAG][@DIGEST]`. */

/** Whether the reference names a digest (`…@sha256:…`): such a one cannot be given as a tag. */
export function isDigestReference(ref: string): boolean {
  return ref.includes('@');
}

/** `repo:tag` → its repository and tag (`latest` when none; a ':' before the last '/' is a registry port). */
export function splitTag(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

/** The reference as Docker lists it among an image's tags: `latest` added when it has no tag. */
export function withTag(ref: string): string {
  if (isDigestReference(ref)) return ref;
  const { repo, tag } = splitTag(ref);
  return `${repo}:${tag}`;
}
