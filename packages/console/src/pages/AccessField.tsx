/** A labelled input of the Access forms, with the server's errors about its field under it. */
import { cloneElement, useId, type ReactElement, type ReactNode } from 'react';
import type { Action } from '../api.js';
import { ErrorBox } from '../components/States.js';
import { errorsAt, fieldErrorsOf } from './SpecDoc.js';

export function Field({ label, path, error, children }: { label: string; path: string; error: Error | undefined; children: ReactElement<Record<string, unknown>> }) {
  const id = useId();
  const mine = errorsAt(fieldErrorsOf(error), path);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, 'aria-invalid': mine.length > 0, 'aria-describedby': mine.length ? `${id}-error` : undefined })}
      {mine.length > 0 && (
        <span id={`${id}-error`} className="field-error">
          {mine.map((e) => e.message).join('; ')}
        </span>
      )}
    </div>
  );
}

/** Input change handler for a string state. */
export const onValue = (set: (v: string) => void) => (e: { target: { value: string } }) => set(e.target.value);

/** A form that runs `submit` as `action` (busy and error state), its error under it. */
export function ActionForm({ label, action, submit, className = 'toolbar', children }: { label: string; action: Action; submit: () => Promise<unknown>; className?: string; children: ReactNode }) {
  return (
    <form
      className={className}
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(submit);
      }}
    >
      {children}
      <ErrorBox error={action.error} />
    </form>
  );
}
