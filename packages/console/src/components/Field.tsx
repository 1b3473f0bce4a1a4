/**
 * A labelled form control with the server's validation messages about its field
 * (or else a hint) under it, and a form's failure that no field shows.
 */
import { cloneElement, useId, type ReactElement, type ReactNode } from 'react';
import type { FieldError } from '@wharf/types';
import { ErrorBox, fieldErrors } from './States.js';

/** The errors about `path` or a field inside it (`containers[0]` holds `containers[0].image`). */
export function errorsAt(errors: FieldError[], path: string): FieldError[] {
  return errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`));
}

interface ControlProps {
  id?: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

/**
 * `<label>` and the control (`children`, given its id and ARIA wiring), then the
 * messages of `errors` about `path`; one about a field inside it is named by its
 * place there (`options.cpu: …`).
 */
export function Field({ label, path, errors, hint, className = 'field', children }: { label: ReactNode; path: string; errors: FieldError[]; hint?: ReactNode; className?: string; children: ReactElement<ControlProps> }) {
  const id = useId();
  const mine = errorsAt(errors, path);
  const note = mine.length > 0 || hint ? `${id}-note` : undefined;
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, 'aria-invalid': mine.length > 0, 'aria-describedby': note })}
      {mine.length > 0 ? (
        <span className="field-error" id={note}>
          {mine.map((e) => `${e.path === path ? '' : `${e.path.slice(path.length).replace(/^\./, '')}: `}${e.message}`).join('; ')}
        </span>
      ) : (
        hint && <small id={note}>{hint}</small>
      )}
    </div>
  );
}

/**
 * A form's failure: the whole error when some of it is not about one of `paths`
 * (or it is not a validation error), else a pointer to the marked fields.
 */
export function FormError({ error, paths }: { error: Error | undefined; paths: string[] }) {
  if (!error) return null;
  const errors = fieldErrors(error);
  if (errors.length === 0 || !errors.every((e) => paths.includes(e.path))) return <ErrorBox error={error} />;
  return (
    <p className="state error" role="alert">
      {errors.length === 1 ? 'One field is' : `${errors.length} fields are`} not right: see the marked field{errors.length === 1 ? '' : 's'}.
    </p>
  );
}
