/** The tags of one repository with digest, size, platform, pusher and the sets using them; tenant admins delete tags. */
import { Link } from 'react-router-dom';
import type { ImageDetail, ImageTag, ImageUse } from '@wharf/types';
import { useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data } from '../components/States.js';
import { bytes, time } from '../format.js';
import { setHref } from '../links.js';
import { useSession } from '../session.js';

function platformOf(detail: ImageDetail, t: ImageTag): string {
  if (t.platforms?.length) return t.platforms.join(', ');
  const m = detail.manifests[t.digest];
  return m?.os ? `${m.os}/${m.architecture ?? '?'}` : '–';
}

export function UsedBy({ uses }: { uses: ImageUse[] }) {
  if (uses.length === 0) return <span className="muted">no set</span>;
  return (
    <ul className="labels">
      {uses.map((u) => (
        <li key={`${u.tenant}/${u.appkey}/${u.id}/${u.container}`}>
          <Link to={setHref(u)}>{`${u.appkey}/${u.id}`}</Link>
        </li>
      ))}
    </ul>
  );
}

export function ImageTags({ name, changed }: { name: string; changed: () => void }) {
  const { client, canAdmin } = useSession();
  const q = useApi((c) => c.getImage(name), [name]);
  return (
    <Data q={q} what="tags">
      {(d) => (
        <table aria-label={`Tags of ${d.repository}`}>
          <thead>
            <tr>
              <th scope="col">Tag</th>
              <th scope="col">Digest</th>
              <th scope="col">Size</th>
              <th scope="col">Platform</th>
              <th scope="col">Layers</th>
              <th scope="col">Pushed</th>
              <th scope="col">Used by</th>
              {canAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {d.tags.map((t) => (
              <tr key={t.tag}>
                <th scope="row" className="mono">
                  {t.tag}
                </th>
                <td className="mono" title={t.digest}>
                  {t.digest.slice(0, 19)}…
                </td>
                <td>{bytes(t.size)}</td>
                <td>{platformOf(d, t)}</td>
                <td>{d.manifests[t.digest]?.layers.length ?? '–'}</td>
                <td>
                  {time(t.pushedAt)}
                  {t.pushedBy && <small> by {t.pushedBy}</small>}
                </td>
                <td>
                  <UsedBy uses={t.usedBy} />
                </td>
                {canAdmin && (
                  <td>
                    <ConfirmButton
                      label="Delete tag"
                      danger
                      question={
                        <>
                          Delete <code>{`${d.repository}:${t.tag}`}</code>? The server refuses while a set uses it; its layers go at the next garbage
                          collection unless another tag names them.
                        </>
                      }
                      onConfirm={() => client.deleteImage(name, t.tag).then(() => (q.reload(), changed()))}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Data>
  );
}
