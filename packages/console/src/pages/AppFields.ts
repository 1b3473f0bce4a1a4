/** The app pages' form fields (scale, autoscaling, rollouts) hold numbers as the texts of their inputs. */

/** A number as an input's text ('' for none), and back (undefined for ''). */
export function numText(n: number | undefined): string {
  return n === undefined ? '' : String(n);
}

export function textNum(s: string): number | undefined {
  return s.trim() === '' ? undefined : Number(s);
}
