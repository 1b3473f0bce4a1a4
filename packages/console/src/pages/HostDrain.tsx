/**
 * Cordon, uncordon and drain a host, and how far a drain has come: the sets it still
 * has to move, those on their way, and those that cannot move (a local volume).
 */
import { Link } from 'react-router-dom';
import type { Host } from '@wharf/types';
import { useAction } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { ErrorBox } from '../components/States.js';
import { age } from '../format.js';
import { setHref } from '../links.js';
import { useSession } from '../session.js';
import { Progress } from '../components/Progress.js';

export function HostActions({ host, changed }: { host: Host; changed: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const act = (a: 'cordon' | 'uncordon') => void action.run(() => client.hostAction(host.name, a)).then(changed);
  return (
    <div className="buttons">
      {!host.cordoned && (
        <button type="button" disabled={action.busy} onClick={() => act('cordon')}>
          Cordon
        </button>
      )}
      {(host.cordoned || host.draining) && (
        <button type="button" disabled={action.busy} onClick={() => act('uncordon')}>
          Uncordon
        </button>
      )}
      {!host.draining && (
        <ConfirmButton
          label="Drain"
          danger
          question={
            <>
              Drain <strong>{host.name}</strong>? It takes no new sets, and its sets without a volume move to other hosts one at a time. Sets with a
              local volume stay.
            </>
          }
          onConfirm={() => client.hostAction(host.name, 'drain').then(changed)}
        />
      )}
      <ErrorBox error={action.error} />
    </div>
  );
}

/** Sets still to move: on the host and relocatable, plus those moving. */
function toMove(d: NonNullable<Host['drain']>): number {
  return Math.max(0, d.remaining - d.blocked.length) + d.moving;
}

export function DrainProgress({ host }: { host: Host }) {
  const d = host.drain;
  if (!host.draining || !d) return null;
  const left = toMove(d);
  // What the host held when the drain began, but the sets that cannot move.
  const size = Math.max(left, (d.total ?? left) - d.blocked.length);
  const done = size - left;
  return (
    <section className="card wide" aria-label="Drain">
      <h2>Drain {left === 0 ? 'done' : 'in progress'}</h2>
      <Progress label="Drain progress" now={done} max={size} text={left === 0 ? 'nothing left to move' : `${done}/${size} sets moved`} />
      <p>
        {d.startedAt && `Began ${age(d.startedAt)} ago with ${d.total ?? '?'} set${d.total === 1 ? '' : 's'}. `}
        {d.remaining} set{d.remaining === 1 ? '' : 's'} still on the host, {d.moving} moving, {d.blocked.length} cannot move.
        {left === 0 && d.blocked.length === 0 && ' Every set has left; the host stays cordoned until you uncordon it.'}
      </p>
      {d.blocked.length > 0 && (
        <>
          <h3>Cannot move (local volume)</h3>
          <ul>
            {d.blocked.map((b) => {
              const [appkey = '', id = ''] = b.split('/');
              return (
                <li key={b}>
                  <Link to={setHref({ appkey, id })}>{b}</Link>
                </li>
              );
            })}
          </ul>
          <small>Links open the set in the current tenant; the set may belong to another.</small>
        </>
      )}
    </section>
  );
}
