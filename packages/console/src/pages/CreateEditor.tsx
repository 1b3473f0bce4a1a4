/**
 * The editor half of the Create page: the whole document as YAML or JSON text.
 * Text that does not parse stays as typed, with the parser's message under it.
 */
import { useId } from 'react';
import type { FieldError } from '@wharf/types';
import type { Format } from './SpecDoc.js';

interface Props {
  text: string;
  format: Format;
  parseError: string | undefined;
  /** The server's field errors of the last try, all of them. */
  errors: FieldError[];
  readOnly: boolean;
  onText(text: string): void;
  onFormat(format: Format): void;
}

export function CreateEditor({ text, format, parseError, errors, readOnly, onText, onFormat }: Props) {
  const id = useId();
  const name = format === 'yaml' ? 'YAML' : 'JSON';
  return (
    <div className="spec-editor">
      <fieldset className="spec-format">
        <legend>Format</legend>
        {(['yaml', 'json'] as const).map((f) => (
          <label key={f}>
            <input type="radio" name={`${id}-format`} checked={format === f} onChange={() => onFormat(f)} />
            {f.toUpperCase()}
          </label>
        ))}
      </fieldset>
      {errors.length > 0 && (
        <div className="state error" role="alert">
          <strong>The server refused the spec:</strong>
          <ul>
            {errors.map((e) => (
              <li key={e.path + e.message}>
                <code>{e.path}</code>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <label htmlFor={`${id}-text`}>Spec ({name})</label>
      <textarea
        id={`${id}-text`}
        className="spec-text"
        value={text}
        onChange={(e) => onText(e.target.value)}
        readOnly={readOnly}
        spellCheck={false}
        rows={28}
        aria-invalid={parseError !== undefined}
        aria-describedby={parseError ? `${id}-parse` : undefined}
      />
      {parseError && (
        <p id={`${id}-parse`} className="field-error" role="alert">
          Not valid {name}: {parseError}
        </p>
      )}
    </div>
  );
}
