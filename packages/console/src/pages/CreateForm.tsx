/**
 * The form half of the Create page: the common fields of a set spec (or an app's
 * template), each bound to its path in the document the editor shows.
 */
import type { FieldError } from '@wharf/types';
import { base, getIn, setIn, type Doc, type Mode } from './SpecDoc.js';
import { envCodec, linesCodec, numberCodec, SpecField, type FieldProps } from './SpecField.js';

interface Props {
  mode: Mode;
  doc: Doc;
  errors: FieldError[];
  readOnly: boolean;
  /** Locked when editing an existing set or app: they name what is changed. */
  lockName: boolean;
  onDoc(doc: Doc): void;
}

interface ContainerLike {
  index?: unknown;
  options?: { name?: unknown };
}

function Container({ at, n, common, onRemove }: { at: string; n: number; common: Omit<FieldProps, 'label' | 'path'>; onRemove?: () => void }) {
  const name = getIn(common.doc, `${at}.options.name`);
  return (
    <fieldset className="spec-container">
      <legend>
        Container {n + 1}
        {typeof name === 'string' && name ? ` (${name})` : ''}
      </legend>
      <SpecField label="Name" path={`${at}.options.name`} {...common} />
      <SpecField label="Image" path={`${at}.image`} placeholder="NAME:TAG" {...common} />
      <SpecField label="Start order" path={`${at}.index`} codec={numberCodec} {...common} />
      <SpecField label="CPU % of set" path={`${at}.options.cpu`} codec={numberCodec} hint="1–100; empty: shared" {...common} />
      <SpecField label="Mem % of set" path={`${at}.options.mem`} codec={numberCodec} hint="1–100; empty: shared" {...common} />
      <SpecField label="Command" path={`${at}.options.command.cmd`} placeholder="/bin/sh" hint="empty: the image's" {...common} />
      <SpecField label="Arguments (one per line)" path={`${at}.options.command.args`} codec={linesCodec} multiline {...common} />
      <SpecField label="Environment (NAME=value per line)" path={`${at}.options.env`} codec={envCodec} multiline {...common} />
      {onRemove && (
        <button type="button" className="danger" onClick={onRemove}>
          Remove container {n + 1}
        </button>
      )}
    </fieldset>
  );
}

export function CreateForm({ mode, doc, errors, readOnly, lockName, onDoc }: Props) {
  const b = base(mode);
  const common = { doc, errors, readOnly, onChange: (path: string, v: unknown) => onDoc(setIn(doc, path, v)) };
  const raw = getIn(doc, `${b}containers`);
  const containers = Array.isArray(raw) ? (raw as ContainerLike[]) : [];
  const addContainer = () => {
    const next = Math.max(-1, ...containers.map((c) => (typeof c?.index === 'number' ? c.index : 0))) + 1;
    onDoc(setIn(doc, `${b}containers`, [...containers, { index: next, image: '', options: { name: `c${next}` } }]));
  };
  return (
    <form className="spec-form" aria-label="Spec form" onSubmit={(e) => e.preventDefault()}>
      <fieldset>
        <legend>{mode === 'app' ? 'App' : 'Set'}</legend>
        <SpecField label="Appkey" path="appkey" placeholder="com.example.web" {...common} readOnly={readOnly || lockName} />
        {mode === 'set' ? (
          <SpecField label="Set id" path="id" codec={numberCodec} {...common} readOnly={readOnly || lockName} />
        ) : (
          <SpecField label="Replicas" path="replicas" codec={numberCodec} {...common} />
        )}
        <SpecField label="CPU cores" path={`${b}resources.cpu`} codec={numberCodec} hint="default 1" {...common} />
        <SpecField label="Memory" path={`${b}resources.memory`} placeholder="512Mi" hint="e.g. 512Mi, 2Gi (default 1Gi)" {...common} />
        <SpecField label="Disk" path={`${b}resources.disk`} placeholder="1Gi" hint="the volume's size (default 1Gi)" {...common} />
      </fieldset>
      {containers.map((_c, i) => (
        <Container
          key={i}
          at={`${b}containers[${i}]`}
          n={i}
          common={common}
          {...(!readOnly && containers.length > 1 ? { onRemove: () => onDoc(setIn(doc, `${b}containers`, containers.filter((_x, j) => j !== i))) } : {})}
        />
      ))}
      {!readOnly && (
        <button type="button" onClick={addContainer}>
          Add container
        </button>
      )}
    </form>
  );
}
