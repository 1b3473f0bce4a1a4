/**
 * Scaling an app by hand: replicas and warm pool, then the sets coming ready,
 * followed live from the app's view (the page polls it).
 */
import { useState } from 'react';
import type { AppView } from '@wharf/types';
import { useAction } from '../api.js';
import { Field, FormError } from '../components/Field.js';
import { Progress } from '../components/Progress.js';
import { fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';

/** Replicas coming ready as a progress bar; the words say what is still under way. */
export function ReadyProgress({ app }: { app: AppView }) {
  const { replicas, ready, current, leaving, standby } = app;
  const settled = ready >= replicas && current === replicas && leaving === 0;
  const under = [
    current < replicas && `${replicas - current} to create`,
    current > replicas && `${current - replicas} to remove`,
    ready < Math.min(current, replicas) && `${Math.min(current, replicas) - ready} starting`,
    leaving > 0 && `${leaving} leaving`,
  ].filter(Boolean);
  return (
    <div className="ready-progress">
      <Progress label="Ready sets" now={Math.min(ready, replicas)} max={replicas} text={`${ready}/${replicas} ready`} />
      <p className="muted" aria-live="polite">
        {settled ? 'All wanted sets are ready' : under.length > 0 ? `Under way: ${under.join(', ')}` : ''}
        {standby > 0 && `; ${standby} in the warm pool`}
      </p>
    </div>
  );
}

function ScaleForm({ app, onScaled }: { app: AppView; onScaled: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const [replicas, setReplicas] = useState(String(app.spec.replicas));
  const [warmPool, setWarmPool] = useState(String(app.spec.warmPool ?? 0));
  const errors = fieldErrors(action.error);
  const submit = async () => {
    if (await action.run(() => client.scaleApp(app.appkey, Number(replicas), warmPool.trim() === '' ? undefined : Number(warmPool)))) onScaled();
  };
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Replicas" path="replicas" errors={errors}>
        <input type="number" min={0} required value={replicas} onChange={(e) => (setReplicas(e.target.value), action.clear())} />
      </Field>
      <Field label="Warm pool" path="warmPool" errors={errors}>
        <input type="number" min={0} value={warmPool} onChange={(e) => (setWarmPool(e.target.value), action.clear())} />
      </Field>
      <button type="submit" className="primary" disabled={action.busy}>
        {action.busy ? 'Scaling…' : 'Scale'}
      </button>
      <FormError error={action.error} paths={['replicas', 'warmPool']} />
    </form>
  );
}

export function AppScale({ app, onScaled }: { app: AppView; onScaled: () => void }) {
  const { canWrite } = useSession();
  return (
    <section className="card" aria-labelledby="scale-h">
      <h2 id="scale-h">Scale</h2>
      <ReadyProgress app={app} />
      {app.spec.autoscale && <p className="muted">Autoscaling is on: the autoscaler sets replicas within its bounds and may undo a change made here.</p>}
      {/* A new spec (someone else scaled) starts the form from the stored values. */}
      {canWrite && !app.deleting && <ScaleForm key={`${app.spec.replicas}/${app.spec.warmPool ?? 0}`} app={app} onScaled={onScaled} />}
    </section>
  );
}
