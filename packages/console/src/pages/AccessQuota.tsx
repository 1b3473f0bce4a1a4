/** The current tenant's quota: what it uses against each limit; platform admins change the limits. */
import { useState } from 'react';
import { QUOTA_RESOURCES, type QuotaResource, type QuotaSpec, type QuotaView } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { Bar } from '../components/Bar.js';
import { Field } from '../components/Field.js';
import { Data, fieldErrors } from '../components/States.js';
import { bytes, cores } from '../format.js';
import { useSession } from '../session.js';
import { ActionForm, onValue } from './AccessField.js';

const RESOURCES: Record<QuotaResource, { label: string; format: (n: number) => string; hint: string }> = {
  cpu: { label: 'CPU cores', format: cores, hint: '8' },
  memory: { label: 'Memory', format: bytes, hint: '16Gi' },
  disk: { label: 'Disk', format: bytes, hint: '100Gi' },
  sets: { label: 'Sets', format: String, hint: '50' },
  ips: { label: 'IPs', format: String, hint: '50' },
  lbPorts: { label: 'LB ports', format: String, hint: '2' },
};

function Usage({ q }: { q: QuotaView }) {
  return (
    <div>
      {QUOTA_RESOURCES.map((r) => {
        const { label, format } = RESOURCES[r];
        const used = q.used[r] ?? 0;
        const limit = q.limits[r];
        return limit === undefined ? (
          <div key={r} className="bar">
            <span className="bar-label">{label}</span>
            <span className="muted">no limit</span>
            <span className="bar-text">{format(used)} used</span>
          </div>
        ) : (
          <Bar key={r} label={label} used={used} total={limit} format={format} />
        );
      })}
    </div>
  );
}

/** A field's text as the API takes it: a number, or (memory, disk) a quantity such as 16Gi. */
function limitOf(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^[0-9.]+$/.test(t) && Number.isFinite(Number(t)) ? Number(t) : t;
}

function EditQuota({ q, done }: { q: QuotaView; done: () => void }) {
  const { client, tenant } = useSession();
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, q.limits[r] === undefined ? '' : String(q.limits[r])])));
  const action = useAction();
  const errors = fieldErrors(action.error);
  return (
    <ActionForm
      className=""
      label="Quota limits"
      action={action}
      submit={async () => {
        const spec = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, limitOf(values[r] ?? '')]).filter(([, v]) => v !== undefined));
        await client.setQuota(spec as QuotaSpec, tenant);
        done();
      }}
    >
      <p className="muted">Empty: no limit. Memory and disk in bytes or as 16Gi.</p>
      <div className="toolbar">
        {QUOTA_RESOURCES.map((r) => (
          <Field key={r} label={`${RESOURCES[r].label} limit`} path={r} errors={errors}>
            <input value={values[r] ?? ''} placeholder={RESOURCES[r].hint} size={8} onChange={onValue((v) => setValues((s) => ({ ...s, [r]: v })))} />
          </Field>
        ))}
      </div>
      <div className="buttons">
        <button className="primary" disabled={action.busy}>
          Save quota
        </button>
        <button type="button" onClick={done}>
          Cancel
        </button>
      </div>
    </ActionForm>
  );
}

export function Quota() {
  const { me, tenant } = useSession();
  const quota = useApi((c) => c.getQuota(tenant), [tenant]);
  const [editing, setEditing] = useState(false);
  return (
    <section className="card" aria-labelledby="quota-h">
      <h2 id="quota-h">Quota of {tenant}</h2>
      <Data q={quota} what="the quota">
        {(q) => (
          <>
            <Usage q={q} />
            {me.platformAdmin &&
              (editing ? (
                <EditQuota
                  q={q}
                  done={() => {
                    setEditing(false);
                    quota.reload();
                  }}
                />
              ) : (
                <button type="button" onClick={() => setEditing(true)}>
                  Edit quota
                </button>
              ))}
          </>
        )}
      </Data>
    </section>
  );
}
