/**
 * One app: its summary and sets, scaling by hand with progress to ready,
 * autoscaling and scheduled rules, rollouts, events, and deleting it.
 */
import { Link, useNavigate, useParams } from 'react-router-dom';
import { WharfError, type AppView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data, Empty } from '../components/States.js';
import { time } from '../format.js';
import { useSession } from '../session.js';
import { AppEvents } from './AppEvents.js';
import { AppScale } from './AppScale.js';
import { AppSets } from './AppSets.js';
import { Images, Phases } from './Apps.js';
import { AutoscalePanel } from './AutoscalePanel.js';
import { RolloutPanel } from './RolloutPanel.js';

function Summary({ app }: { app: AppView }) {
  return (
    <section className="card" aria-labelledby="summary-h">
      <h2 id="summary-h">Summary</h2>
      <dl className="facts">
        <dt>Replicas</dt>
        <dd>{app.replicas}</dd>
        <dt>Current</dt>
        <dd>{app.current}</dd>
        <dt>Ready</dt>
        <dd>{app.ready}</dd>
        <dt>Leaving</dt>
        <dd>{app.leaving}</dd>
        <dt>Warm pool</dt>
        <dd>
          {app.standby} standby of {app.spec.warmPool ?? 0} wanted
        </dd>
        <dt>Phases</dt>
        <dd>
          <Phases phases={app.phases} />
        </dd>
        <dt>Images</dt>
        <dd>
          <Images app={app} />
        </dd>
        <dt>Created</dt>
        <dd>{time(app.createdAt)}</dd>
      </dl>
      {app.message && <p>{app.message}</p>}
    </section>
  );
}

function Gone({ appkey }: { appkey: string }) {
  return (
    <Empty>
      There is no app {appkey} (any more). <Link to="/apps">All apps</Link>
    </Empty>
  );
}

export function AppDetail() {
  const appkey = useParams().appkey ?? '';
  const { client, canWrite } = useSession();
  const navigate = useNavigate();
  // useApi stops asking once the answer is a 404.
  const app = useApi((c) => c.getApp(appkey), [appkey]);
  const notFound = app.error instanceof WharfError && app.error.code === 'APP_NOT_FOUND';
  if (notFound) {
    return (
      <>
        <h1>App {appkey}</h1>
        <Gone appkey={appkey} />
      </>
    );
  }
  return (
    <>
      <h1>
        App {appkey} {app.data?.deleting && <Badge state="deleting" />}
      </h1>
      <Data q={app} what="the app">
        {(a) => (
          <div className="stack">
            {canWrite && !a.deleting && (
              <div className="buttons">
                <ConfirmButton
                  label="Delete app"
                  danger
                  question={`Delete app ${appkey} and its ${a.sets.length} sets? Their containers are removed.`}
                  onConfirm={() => client.deleteApp(appkey).then(() => navigate('/apps'))}
                />
              </div>
            )}
            <div className="grid">
              <Summary app={a} />
              <AppScale app={a} onScaled={app.reload} />
            </div>
            <section className="card" aria-labelledby="sets-h">
              <h2 id="sets-h">Sets ({a.sets.length})</h2>
              <AppSets app={a} />
            </section>
            <AutoscalePanel appkey={appkey} replicas={a.replicas} onChanged={app.reload} />
            <RolloutPanel app={a} />
            <AppEvents appkey={appkey} />
          </div>
        )}
      </Data>
    </>
  );
}
