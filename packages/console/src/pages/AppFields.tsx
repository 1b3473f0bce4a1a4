/**
 * Form fields of the app pages (scale, autoscaling, rollouts): a labelled control
 * with the server's validation message for its path right under it.
 */
import { useId, type ReactNode } from 'react';
import type { FieldError } from '@wharf/types';
import { ErrorBox, fieldErrors } from '../components/States.js';

/**
 * The message for `path`. Schema errors of a request body arrive as `body.x`,
 * the server's own checks as `x`; both belong to the same field.
 */
export function errorAt(errors: FieldError[], path: string): string | undefined {
  return errors.find((e) => e.path === path || e.path === `body.${path}`)?.message;
}

/**
 * A form's failure: the whole error when some of it has no field among `paths`
 * (or it is not a validation error), else a pointer to the marked fields.
 */
export function FormError({ error, paths }: { error: Error | undefined; paths: string[] }) {
  if (!error) return null;
  const errors = fieldErrors(error);
  const placed = errors.length > 0 && errors.every((e) => paths.some((p) => e.path === p || e.path === `body.${p}`));
  if (!placed) return <ErrorBox error={error} />;
  return (
    <p className="state error" role="alert">
      {errors.length === 1 ? 'One field is' : `${errors.length} fields are`} not right: see the marked field{errors.length === 1 ? '' : 's'}.
    </p>
  );
}

export interface ControlProps {
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/** `<label>{label}{control}</label>` and the field's error; `control` gets the ARIA wiring. */
export function Field({ label, error, hint, className, children }: { label: ReactNode; error?: string | undefined; hint?: ReactNode; className?: string; children: (p: ControlProps) => ReactNode }) {
  const id = useId();
  const wiring: ControlProps = error ? { 'aria-invalid': true, 'aria-describedby': id } : {};
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label>
        <span>{label}</span>
        {children(wiring)}
      </label>
      {hint && !error && <small>{hint}</small>}
      {error && (
        <span className="field-error" id={id}>
          {error}
        </span>
      )}
    </div>
  );
}

/** A number as an input's text ('' for none), and back (undefined for ''). */
export function numText(n: number | undefined): string {
  return n === undefined ? '' : String(n);
}

export function textNum(s: string): number | undefined {
  return s.trim() === '' ? undefined : Number(s);
}
