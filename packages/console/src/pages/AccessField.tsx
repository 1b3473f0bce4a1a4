/** Form helpers of the Access (and Audit) pages. */
import type { ReactNode } from 'react';
import type { Action } from '../api.js';
import { ErrorBox } from '../components/States.js';

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
