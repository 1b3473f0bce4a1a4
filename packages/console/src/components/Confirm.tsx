/**
 * A button that asks before it acts (delete, stop, rollback…): the question in a
 * modal dialog, Escape or Cancel to back out. Errors of the action show next to it.
 */
import { useRef, type ReactNode } from 'react';
import { useAction } from '../api.js';
import { ErrorBox } from './States.js';

export function ConfirmButton({ label, question, onConfirm, danger, children }: { label: string; question: ReactNode; onConfirm: () => Promise<unknown>; danger?: boolean; children?: ReactNode }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const action = useAction();
  return (
    <>
      <button type="button" className={danger ? 'danger' : undefined} disabled={action.busy} onClick={() => dialog.current?.showModal()}>
        {action.busy ? `${label}…` : label}
      </button>
      <dialog ref={dialog} aria-label={label}>
        <form
          method="dialog"
          onSubmit={(e) => {
            if ((e.nativeEvent as SubmitEvent).submitter?.getAttribute('value') === 'ok') void action.run(onConfirm);
          }}
        >
          <p>{question}</p>
          {children}
          <div className="buttons">
            <button value="cancel" autoFocus>
              Cancel
            </button>
            <button value="ok" className={danger ? 'danger' : 'primary'}>
              {label}
            </button>
          </div>
        </form>
      </dialog>
      <ErrorBox error={action.error} />
    </>
  );
}
