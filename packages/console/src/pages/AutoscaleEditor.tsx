/**
 * The autoscaling editor: bounds, metric targets, scheduled rules (rows to add
 * and remove) and pacing, with the server's messages at each field and the next
 * 24 hours of the edited spec drawn below. Viewers see it read-only.
 */
import { useDeferredValue, useMemo, useState, type InputHTMLAttributes } from 'react';
import type { AutoscaleSpec, FieldError } from '@wharf/types';
import { useAction } from '../api.js';
import { Field, FormError } from '../components/Field.js';
import { fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';
import { AutoscaleChart } from './AutoscaleChart.js';
import { NEW_METRIC, NEW_SCHEDULE, PACING, toDraft, toSpec, type Draft, type MetricDraft, type ScheduleDraft } from './AutoscaleDraft.js';

type Update<T> = (i: number, patch: Partial<T>) => void;

function TextInput({ onChange, ...rest }: Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange'> & { value: string; onChange: (v: string) => void }) {
  return <input type="text" onChange={(e) => onChange(e.target.value)} {...rest} />;
}

function ScheduleRow({ s, i, errors, update, remove }: { s: ScheduleDraft; i: number; errors: FieldError[]; update: Update<ScheduleDraft>; remove?: () => void }) {
  const at = `schedules[${i}]`;
  // An error about the rule as a whole (not one of its fields).
  const row = errors.find((e) => e.path === at)?.message;
  const field = (key: keyof ScheduleDraft, label: string, type = 'text', placeholder?: string) => (
    <Field label={label} path={`${at}.${key}`} errors={errors}>
      <TextInput type={type} value={s[key]} onChange={(v) => update(i, { [key]: v })} placeholder={placeholder} />
    </Field>
  );
  return (
    <fieldset className="row-fields">
      <legend>Schedule {i + 1}</legend>
      {field('cron', 'Cron (minute hour day month weekday)', 'text', '0 9 * * 1-5')}
      {field('timezone', 'Time zone', 'text', 'UTC')}
      {field('duration', 'Duration', 'text', '8h')}
      {field('min', 'Min while open', 'number')}
      {field('max', 'Max while open', 'number')}
      {remove && (
        <button type="button" onClick={remove} aria-label={`Remove schedule ${i + 1}`}>
          Remove
        </button>
      )}
      {row && <p className="field-error">{row}</p>}
    </fieldset>
  );
}

function MetricRow({ m, i, errors, update, remove }: { m: MetricDraft; i: number; errors: FieldError[]; update: Update<MetricDraft>; remove?: () => void }) {
  const at = `metrics[${i}]`;
  return (
    <fieldset className="row-fields">
      <legend>Custom metric {i + 1}</legend>
      <Field label="Metric name" path={`${at}.name`} errors={errors}>
        <TextInput value={m.name} onChange={(v) => update(i, { name: v })} placeholder="requests_per_second" />
      </Field>
      <Field label="Target per set" path={`${at}.target`} errors={errors}>
        <TextInput type="number" value={m.target} onChange={(v) => update(i, { target: v })} />
      </Field>
      {remove && (
        <button type="button" onClick={remove} aria-label={`Remove metric ${i + 1}`}>
          Remove
        </button>
      )}
    </fieldset>
  );
}

/** Every path a field of the form shows. */
function paths(d: Draft): string[] {
  return [
    'min', 'max', 'cpu', 'memory', ...PACING.map(([k]) => k),
    ...d.metrics.flatMap((_, i) => [`metrics[${i}].name`, `metrics[${i}].target`]),
    ...d.schedules.flatMap((_, i) => ['', '.cron', '.timezone', '.duration', '.min', '.max'].map((k) => `schedules[${i}]${k}`)),
  ];
}

function rows<T>(list: T[], set: (l: T[]) => void) {
  return {
    update: (i: number, patch: Partial<T>) => set(list.map((x, j) => (j === i ? { ...x, ...patch } : x))),
    remove: (i: number) => set(list.filter((_, j) => j !== i)),
  };
}

export function AutoscaleEditor({ appkey, spec, current, onSaved, onCancel }: { appkey: string; spec: AutoscaleSpec; current: number; onSaved: () => void; onCancel?: () => void }) {
  const { client, canWrite } = useSession();
  const action = useAction();
  const [draft, setDraft] = useState<Draft>(() => toDraft(spec));
  const errors = fieldErrors(action.error);
  const edited = useMemo(() => toSpec(draft), [draft]);
  const preview = useDeferredValue(edited);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const metrics = rows(draft.metrics, (metrics) => set({ metrics }));
  const schedules = rows(draft.schedules, (schedules) => set({ schedules }));
  const num = (key: 'min' | 'max' | 'cpu' | 'memory', label: string, hint?: string) => (
    <Field label={label} path={key} errors={errors} hint={hint}>
      <TextInput type="number" value={draft[key]} onChange={(v) => set({ [key]: v })} />
    </Field>
  );
  const save = async () => {
    if (await action.run(() => client.setAutoscale(appkey, edited))) onSaved();
  };
  return (
    <form
      className="autoscale-editor"
      aria-label="Autoscaling rules"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <FormError error={action.error} paths={paths(draft)} />
      <fieldset disabled={!canWrite} className="plain">
        <div className="toolbar">
          {num('min', 'Min replicas')}
          {num('max', 'Max replicas')}
          {num('cpu', 'CPU target (%)', 'of the sets’ CPU limit')}
          {num('memory', 'Memory target (%)', 'of the sets’ memory limit')}
        </div>
        <h3>Custom metrics</h3>
        {draft.metrics.length === 0 && <p className="muted">None: pushed metrics are not used.</p>}
        {draft.metrics.map((m, i) => (
          <MetricRow key={i} m={m} i={i} errors={errors} update={metrics.update} {...(canWrite ? { remove: () => metrics.remove(i) } : {})} />
        ))}
        {canWrite && (
          <button type="button" onClick={() => set({ metrics: [...draft.metrics, { ...NEW_METRIC }] })}>
            Add metric
          </button>
        )}
        <h3>Scheduled rules</h3>
        {draft.schedules.length === 0 && <p className="muted">None: min and max hold all day.</p>}
        {draft.schedules.map((s, i) => (
          <ScheduleRow key={i} s={s} i={i} errors={errors} update={schedules.update} {...(canWrite ? { remove: () => schedules.remove(i) } : {})} />
        ))}
        {canWrite && (
          <button type="button" onClick={() => set({ schedules: [...draft.schedules, { ...NEW_SCHEDULE }] })}>
            Add schedule
          </button>
        )}
        <details>
          <summary>Pacing</summary>
          <div className="toolbar">
            {PACING.map(([key, label, dflt]) => (
              <Field key={key} label={label} path={key} errors={errors}>
                <TextInput type="number" value={draft.pacing[key]} onChange={(v) => set({ pacing: { ...draft.pacing, [key]: v } })} placeholder={`default ${dflt}`} />
              </Field>
            ))}
          </div>
        </details>
      </fieldset>
      <h3>Next 24 hours</h3>
      <AutoscaleChart spec={preview} current={current} />
      {canWrite && (
        <div className="buttons">
          <button type="submit" className="primary" disabled={action.busy}>
            {action.busy ? 'Saving…' : 'Save autoscaling'}
          </button>
          {onCancel && (
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
      )}
    </form>
  );
}
