/**
 * An app's autoscaling: what the autoscaler sees now (effective bounds, open and
 * upcoming schedule windows, signals, recent decisions), the rules editor, and
 * turning it on or off.
 */
import { useState } from 'react';
import type { AutoscaleStatus, ScheduleWindow } from '@wharf/types';
import { useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data } from '../components/States.js';
import { time } from '../format.js';
import { useSession } from '../session.js';
import { AutoscaleEditor } from './AutoscaleEditor.js';
import { starterSpec } from './AutoscaleDraft.js';

function windowText(w: ScheduleWindow): string {
  const bounds = [w.min !== undefined && `min ${w.min}`, w.max !== undefined && `max ${w.max}`].filter(Boolean).join(', ');
  return `${time(w.start)} – ${time(w.end)}: ${bounds} ('${w.cron}' ${w.timezone})`;
}

function Now({ s }: { s: AutoscaleStatus }) {
  return (
    <div className="autoscale-now">
      <dl className="facts">
        <dt>Replicas</dt>
        <dd>{s.current}</dd>
        <dt>Wanted now</dt>
        <dd>{s.desired}</dd>
        <dt>Effective bounds</dt>
        <dd>
          {s.min} – {s.max}
        </dd>
      </dl>
      {s.signals.length > 0 && (
        <ul aria-label="Signals">
          {s.signals.map((g) => (
            <li key={g.name}>
              {g.name}: {Number(g.observed.toFixed(2))}
              {g.unit} (target {g.target}
              {g.unit}) over {g.sets} sets
            </li>
          ))}
        </ul>
      )}
      {s.active.length > 0 && (
        <p>
          Open windows: {s.active.map(windowText).join('; ')}
        </p>
      )}
      {s.upcoming.length > 0 && (
        <details>
          <summary>Windows opening in the next 24 h ({s.upcoming.length})</summary>
          <ul>
            {s.upcoming.map((w) => (
              <li key={`${w.cron}@${w.start}`}>{windowText(w)}</li>
            ))}
          </ul>
        </details>
      )}
      {s.decisions.length > 0 && (
        <details>
          <summary>Recent decisions ({s.decisions.length})</summary>
          <ul>
            {[...s.decisions].reverse().map((d) => (
              <li key={`${d.time}${d.message}`}>
                <time dateTime={d.time}>{time(d.time)}</time> {d.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

export function AutoscalePanel({ appkey, replicas, onChanged }: { appkey: string; replicas: number; onChanged: () => void }) {
  const { client, canWrite } = useSession();
  const status = useApi((c) => c.autoscaleStatus(appkey), [appkey]);
  const [setup, setSetup] = useState(false);
  const changed = () => {
    setSetup(false);
    status.reload();
    onChanged();
  };
  return (
    <section className="card wide" aria-labelledby="autoscale-h">
      <h2 id="autoscale-h">Autoscaling</h2>
      <Data q={status} what="autoscaling">
        {(s) =>
          s.spec ? (
            <>
              <Now s={s} />
              {canWrite && (
                <div className="buttons">
                  <ConfirmButton label="Turn off autoscaling" question={`Turn off autoscaling of ${appkey}? Its replicas stay at ${s.current}.`} onConfirm={() => client.disableAutoscale(appkey).then(changed)} />
                </div>
              )}
              {/* Keyed by the stored spec: a save elsewhere starts the form anew; polling does not. */}
              <AutoscaleEditor key={JSON.stringify(s.spec)} appkey={appkey} spec={s.spec} current={s.current} onSaved={changed} />
            </>
          ) : setup ? (
            <AutoscaleEditor appkey={appkey} spec={starterSpec(replicas)} current={replicas} onSaved={changed} onCancel={() => setSetup(false)} />
          ) : (
            <>
              <p className="muted">Autoscaling is off: the app keeps the replicas it is given.</p>
              {canWrite && (
                <button type="button" onClick={() => setSetup(true)}>
                  Set up autoscaling
                </button>
              )}
            </>
          )
        }
      </Data>
    </section>
  );
}
