/** The caller's login sessions and API tokens (platform admins: everyone's); create one, shown once, and revoke. */
import { useRef, useState } from 'react';
import { TENANT_ROLES, type TenantRole, type TokenCreated, type TokenInfo } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Field } from '../components/Field.js';
import { Data, fieldErrors } from '../components/States.js';
import { time } from '../format.js';
import { useSession } from '../session.js';
import { Table } from './AccessTable.js';
import { ActionForm, onValue } from './AccessField.js';

const DAY = 86400;
const TTLS: Array<[string, number | undefined]> = [
  ['never expires', undefined],
  ['1 hour', 3600],
  ['1 day', DAY],
  ['30 days', 30 * DAY],
  ['90 days', 90 * DAY],
  ['1 year', 365 * DAY],
];

function Shown({ token }: { token: TokenCreated }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
    } catch {
      // No clipboard API (a page not served over HTTPS): copy the selection instead.
      input.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  };
  return (
    <div className="state token-shown" role="status">
      <p>
        Token <strong>{token.name}</strong> is shown only this once: copy it now.
      </p>
      <div className="toolbar">
        <label className="grow">
          Token (shown once)
          <input ref={input} readOnly value={token.token} className="mono" onFocus={(e) => e.target.select()} />
        </label>
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy token'}
        </button>
      </div>
    </div>
  );
}

function CreateToken({ done }: { done: () => void }) {
  const { client, tenants } = useSession();
  const [name, setName] = useState('');
  const [tenant, setTenant] = useState('');
  const [role, setRole] = useState<TenantRole | ''>('');
  const [ttl, setTtl] = useState(0);
  const [created, setCreated] = useState<TokenCreated | undefined>();
  const action = useAction();
  const errors = fieldErrors(action.error);
  const seconds = TTLS[ttl]?.[1];
  return (
    <>
      <ActionForm
        label="Create a token"
        action={action}
        submit={async () => {
          setCreated(await client.createToken({ name: name.trim(), ...(tenant ? { tenant } : {}), ...(role ? { role } : {}), ...(seconds ? { ttlSeconds: seconds } : {}) }));
          setName('');
          done();
        }}
      >
        <Field label="Token name" path="name" errors={errors}>
          <input value={name} onChange={onValue(setName)} placeholder="ci-deploy" required />
        </Field>
        <Field label="Only for tenant" path="tenant" errors={errors}>
          <select value={tenant} onChange={onValue(setTenant)}>
            <option value="">any of mine</option>
            {tenants.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <Field label="At most role" path="role" errors={errors}>
          <select value={role} onChange={(e) => setRole(e.target.value as TenantRole | '')}>
            <option value="">my own</option>
            {TENANT_ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </Field>
        <Field label="Lifetime" path="ttlSeconds" errors={errors}>
          <select value={ttl} onChange={(e) => setTtl(Number(e.target.value))}>
            {TTLS.map(([label], i) => (
              <option key={label} value={i}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <button className="primary" disabled={action.busy || !name.trim()}>
          Create token
        </button>
      </ActionForm>
      {created && <Shown token={created} />}
    </>
  );
}

export function Tokens() {
  const { client, me } = useSession();
  const tokens = useApi((c) => c.listTokens());
  const current = me.token?.id;
  const [sessions, setSessions] = useState(false);
  return (
    <section className="card" aria-labelledby="tokens-h">
      <h2 id="tokens-h">{me.platformAdmin ? 'Tokens' : 'Your tokens'}</h2>
      <label className="check">
        <input type="checkbox" checked={sessions} onChange={(e) => setSessions(e.target.checked)} />
        Show login sessions
      </label>
      <Data q={tokens} what="tokens" empty="No tokens.">
        {(all) => {
          const list = all.filter((t) => sessions || !t.session || t.id === current);
          return (
            <Table headers={['Name', 'User', 'Scope', 'Created', 'Expires', 'Actions']}>
              {list.map((t: TokenInfo) => (
                <tr key={t.id}>
                  <td>
                    {t.name} {t.session && <small>(login session{t.id === current ? ', this one' : ''})</small>}
                  </td>
                  <td>{t.user}</td>
                  <td>{t.tenant ? `${t.tenant}${t.role ? ` as ${t.role}` : ''}` : t.role ? `as ${t.role}` : 'all'}</td>
                  <td>{time(t.createdAt)}</td>
                  <td>{t.expiresAt ? time(t.expiresAt) : 'never'}</td>
                  <td>
                    {t.id !== current && <ConfirmButton label={`Revoke token ${t.name}`} danger question={`Revoke token ${t.name} of ${t.user}? Whatever uses it is logged out.`} onConfirm={() => client.revokeToken(t.id).then(tokens.reload)} />}
                  </td>
                </tr>
              ))}
            </Table>
          );
        }}
      </Data>
      {me.kind === 'user' && <CreateToken done={tokens.reload} />}
    </section>
  );
}
