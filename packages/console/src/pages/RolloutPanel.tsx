/**
 * An app's rollouts: the newest with its live batch progress and the actions its
 * state allows (pause, resume, rollback), the wizard for a new one when none is
 * under way, and the history.
 */
import { Link } from 'react-router-dom';
import type { AppView, Rollout } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data, Empty, ErrorBox } from '../components/States.js';
import { age, time } from '../format.js';
import { setHref } from '../links.js';
import { useSession } from '../session.js';
import { Progress } from '../components/Progress.js';
import { RolloutWizard } from './RolloutWizard.js';

const UNDER_WAY = new Set(['running', 'paused', 'rolling-back']);
const MAY_ROLL_BACK = new Set(['running', 'paused', 'failed', 'succeeded']);

/** Batches whose sets are all updated. */
function batchesDone(r: Rollout): number {
  let done = 0;
  for (let b = 1; b <= r.batches; b++) {
    const inBatch = r.targets.filter((t) => t.batch === b);
    if (inBatch.length > 0 && inBatch.every((t) => t.state === 'updated')) done++;
  }
  return done;
}

function count(r: Rollout, state: string): number {
  return r.targets.filter((t) => t.state === state).length;
}

function Actions({ r, onChanged }: { r: Rollout; onChanged: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const act = (what: 'pause' | 'resume') => void action.run(() => client.rolloutAction(r.appkey, what)).then((ok) => ok && onChanged());
  return (
    <div className="buttons">
      {r.state === 'running' && (
        <button type="button" onClick={() => act('pause')} disabled={action.busy}>
          Pause
        </button>
      )}
      {r.state === 'paused' && (
        <button type="button" className="primary" onClick={() => act('resume')} disabled={action.busy}>
          Resume
        </button>
      )}
      {MAY_ROLL_BACK.has(r.state) && (
        <ConfirmButton
          label="Rollback"
          danger
          question={`Put ${r.container}'s previous image back on the ${count(r, 'updated') + count(r, 'updating') + count(r, 'failed')} sets rollout #${r.number} changed?`}
          onConfirm={() => client.rolloutAction(r.appkey, 'rollback').then(onChanged)}
        />
      )}
      <ErrorBox error={action.error} />
    </div>
  );
}

function Current({ r, onChanged }: { r: Rollout; onChanged: () => void }) {
  const { canWrite } = useSession();
  const back = r.state === 'rolling-back' || r.state === 'rolled-back';
  const n = r.targets.length;
  const rolledBack = count(r, 'rolled-back');
  const updated = count(r, 'updated');
  const batches = batchesDone(r);
  return (
    <div className="rollout-current" aria-label={`Rollout ${r.number}`} role="group">
      <h3>
        Rollout #{r.number} <Badge state={r.state} />
      </h3>
      <p>
        <code>{r.container}</code> → <code>{r.image}</code>
        {r.set && ` (set ${r.set} only)`}, {r.batchSize} per batch, started {age(r.createdAt)} ago
        {r.message && <span className="muted"> — {r.message}</span>}
      </p>
      {back ? (
        <Progress label="Sets rolled back" now={rolledBack} max={n} text={`${rolledBack}/${n} sets rolled back`} />
      ) : (
        <>
          <Progress label="Batches done" now={batches} max={r.batches} text={`${batches}/${r.batches} batches done${r.batch > 0 && UNDER_WAY.has(r.state) ? `, batch ${r.batch} under way` : ''}`} />
          <Progress label="Sets updated" now={updated} max={n} text={`${updated}/${n} sets updated`} />
        </>
      )}
      {canWrite && <Actions r={r} onChanged={onChanged} />}
      <details>
        <summary>Sets ({n})</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Set</th>
                <th>Batch</th>
                <th>State</th>
                <th>Image before</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {r.targets.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link to={setHref({ appkey: r.appkey, id: t.id })}>{t.id}</Link>
                  </td>
                  <td>{t.batch ?? '–'}</td>
                  <td>
                    <Badge state={t.state} />
                  </td>
                  <td>
                    <code>{t.from}</code>
                  </td>
                  <td>{t.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

function History({ list }: { list: Rollout[] }) {
  return (
    <div className="table-wrap">
      <table aria-label="Rollout history">
        <thead>
          <tr>
            <th>#</th>
            <th>Container</th>
            <th>Image</th>
            <th>State</th>
            <th>Batches</th>
            <th>Sets</th>
            <th>Started</th>
            <th>Finished</th>
          </tr>
        </thead>
        <tbody>
          {list.map((r) => (
            <tr key={r.number}>
              <td>{r.number}</td>
              <td>{r.container}</td>
              <td>
                <code>{r.image}</code>
              </td>
              <td>
                <Badge state={r.state} />
              </td>
              <td>{r.batches}</td>
              <td>{r.targets.length}</td>
              <td>{time(r.createdAt)}</td>
              <td>{time(r.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RolloutPanel({ app }: { app: AppView }) {
  const { canWrite } = useSession();
  const rollouts = useApi((c) => c.listRollouts(app.appkey), [app.appkey]);
  return (
    <section className="card wide" aria-labelledby="rollouts-h">
      <h2 id="rollouts-h">Rollouts</h2>
      <Data q={rollouts} what="rollouts">
        {(list) => {
          const newest = list[0];
          const busy = newest !== undefined && UNDER_WAY.has(newest.state);
          return (
            <>
              {newest && <Current r={newest} onChanged={rollouts.reload} />}
              {canWrite && !app.deleting && (busy ? <p className="muted">A new rollout can start once this one has ended.</p> : <RolloutWizard app={app} onStarted={rollouts.reload} />)}
              <h3>History</h3>
              {list.length === 0 ? <Empty>No rollouts yet.</Empty> : <History list={list} />}
            </>
          );
        }}
      </Data>
    </section>
  );
}
