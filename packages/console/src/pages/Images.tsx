/**
 * The current tenant's repositories in the platform registry: size, visibility, tags
 * and the sets using them; how to push; tenant admins delete tags and repositories and
 * make repositories public or private.
 */
import { useState } from 'react';
import type { ImageRepository } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data } from '../components/States.js';
import { bytes } from '../format.js';
import { useSession } from '../session.js';
import { RegistryCard } from './ImageRegistry.js';
import { ImageTags, UsedBy } from './ImageTags.js';

/** Tenant admins make a repository public (anyone may pull it, no credentials) or private again. */
function VisibilityToggle({ r, changed }: { r: ImageRepository; changed: () => void }) {
  const { client } = useSession();
  const to = !r.public;
  return (
    <ConfirmButton
      label={to ? 'Make public' : 'Make private'}
      danger={to}
      question={
        to ? (
          <>
            Make <code>{r.repository}</code> public? Anyone who reaches the registry may then pull its images, without credentials.
          </>
        ) : (
          <>
            Make <code>{r.repository}</code> private? Only the tenant&apos;s members and the platform&apos;s hosts may pull it then.
          </>
        )
      }
      onConfirm={() => client.setImagePublic(r.name, to).then(changed)}
    />
  );
}

function RepositoryRow({ r, changed }: { r: ImageRepository; changed: () => void }) {
  const { client, canAdmin } = useSession();
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr>
        <th scope="row">{r.name}</th>
        <td className="mono">{r.image}</td>
        <td>
          {r.public ? <Badge state="public" tone="good" /> : <span className="muted">private</span>}
          {canAdmin && ' '}
          {canAdmin && <VisibilityToggle r={r} changed={changed} />}
        </td>
        <td>{r.tags.length}</td>
        <td>{bytes(r.size)}</td>
        <td>
          <UsedBy uses={r.usedBy} />
        </td>
        <td>
          <div className="buttons">
            <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? `Hide tags of ${r.name}` : `Tags of ${r.name}`}
            </button>
            {canAdmin && (
              <ConfirmButton
                label={`Delete ${r.name}`}
                danger
                question={
                  <>
                    Delete every tag of <code>{r.repository}</code>? The server refuses while a set uses any of its images.
                  </>
                }
                onConfirm={() => client.deleteImage(r.name).then(changed)}
              />
            )}
          </div>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={7}>
            <ImageTags name={r.name} changed={changed} />
          </td>
        </tr>
      )}
    </>
  );
}

function Repositories({ list, changed }: { list: ImageRepository[]; changed: () => void }) {
  const [search, setSearch] = useState('');
  const q = search.trim().toLowerCase();
  const shown = list.filter((r) => !q || r.name.toLowerCase().includes(q) || r.tags.some((t) => t.tag.toLowerCase().includes(q)));
  return (
    <>
      <div className="toolbar" role="search">
        <label>
          Search
          <input type="search" value={search} placeholder="name or tag" onChange={(e) => setSearch(e.target.value)} />
        </label>
        <span className="muted">
          {shown.length} of {list.length} repositories
        </span>
      </div>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Repository</th>
              <th scope="col">Image</th>
              <th scope="col">Visibility</th>
              <th scope="col">Tags</th>
              <th scope="col">Size</th>
              <th scope="col">Used by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <RepositoryRow key={r.repository} r={r} changed={changed} />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function Images() {
  const { tenant } = useSession();
  const q = useApi((c) => c.listImages());
  return (
    <>
      <h1>Images</h1>
      <div className="grid">
        <RegistryCard repos={q.data} />
        <section className="card wide">
          <h2>Repositories of {tenant}</h2>
          <Data q={q} what="images" empty={`${tenant} has no image in the platform registry yet: push one with the commands above.`}>
            {(list) => <Repositories list={list} changed={q.reload} />}
          </Data>
        </section>
      </div>
    </>
  );
}
