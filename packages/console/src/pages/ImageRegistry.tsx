/**
 * Where to push: the platform registry's address and the commands that log in, tag
 * and push an image into the current tenant, ready to copy.
 */
import { useRef, useState } from 'react';
import type { ImageRepository } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Data, Empty } from '../components/States.js';
import { useSession } from '../session.js';

/** A command block with a Copy button; without clipboard access it selects the text instead. */
export function CopyBlock({ label, text }: { label: string; text: string }) {
  const pre = useRef<HTMLPreElement>(null);
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied');
    } catch {
      // The clipboard needs a secure context (https or localhost): leave the text selected.
      const sel = window.getSelection();
      if (pre.current && sel) sel.selectAllChildren(pre.current);
      setSaid('Selected: press Ctrl+C to copy');
    }
  };
  return (
    <div className="copy-block">
      <pre ref={pre} aria-label={label} tabIndex={0}>
        {text}
      </pre>
      <div className="buttons">
        <button type="button" onClick={() => void copy()}>
          Copy {label.toLowerCase()}
        </button>
        <span role="status" className="muted">
          {said}
        </span>
      </div>
    </div>
  );
}

function pushCommands(address: string, tenant: string): string {
  const ref = `${address}/${tenant}/web:1`;
  return [
    `# password: a Wharf token (Access page); any user name`,
    `docker login ${address} --username me --password-stdin`,
    `docker tag web:1 ${ref}`,
    `docker push ${ref}`,
  ].join('\n');
}

function Push({ address }: { address: string }) {
  const { tenant } = useSession();
  return (
    <>
      <p>
        Images of <strong>{tenant}</strong> are named <code>{`${address}/${tenant}/NAME:TAG`}</code>. Replace <code>web:1</code> with your image:
      </p>
      <CopyBlock label="Push commands" text={pushCommands(address, tenant)} />
      <p className="muted">
        Without Docker: <code>wharf image push web.tar web:1</code> uploads a <code>docker save</code> archive through the server.
      </p>
    </>
  );
}

/** Platform admins read `GET /v1/registry`; it also says whether the registry runs. */
function AdminRegistry() {
  const q = useApi((c) => c.registryInfo());
  return (
    <Data q={q} what="registry">
      {(r) =>
        !r.enabled || !r.address ? (
          <Empty>The platform registry is off (wharf-server --registry off).</Empty>
        ) : (
          <>
            <p>
              Address <code>{r.address}</code> <Badge state={r.running === false ? 'not-ready' : 'running'} />
              {r.mirrors?.length ? <small> · mirrors: {r.mirrors.map((m) => `${m.upstream} → ${m.address}`).join(', ')}</small> : null}
            </p>
            <Push address={r.address} />
          </>
        )
      }
    </Data>
  );
}

/** Others learn the address from their repositories' image names (`<address>/<tenant>/<name>`). */
function addressOf(repos: ImageRepository[] | undefined): string | undefined {
  const r = repos?.find((x) => x.image.endsWith(`/${x.repository}`));
  return r ? r.image.slice(0, -(r.repository.length + 1)) : undefined;
}

export function RegistryCard({ repos }: { repos: ImageRepository[] | undefined }) {
  const { me } = useSession();
  const address = addressOf(repos);
  return (
    <section className="card wide">
      <h2>Registry</h2>
      {me.platformAdmin ? (
        <AdminRegistry />
      ) : address ? (
        <Push address={address} />
      ) : (
        <Empty>The registry's address shows here once the tenant has an image; a platform admin can tell you it before that.</Empty>
      )}
    </section>
  );
}
