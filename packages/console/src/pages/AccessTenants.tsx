/**
 * Tenants (platform admins create and delete them) and the members of the current
 * tenant with their roles (its admins grant and revoke).
 */
import { useState } from 'react';
import { TENANT_ROLES, type Tenant, type TenantRole } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Field } from '../components/Field.js';
import { Data, ErrorBox, fieldErrors } from '../components/States.js';
import { Table } from './AccessTable.js';
import { time } from '../format.js';
import { useSession } from '../session.js';
import { ActionForm, onValue } from './AccessField.js';

function CreateTenant({ done }: { done: () => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const action = useAction();
  const errors = fieldErrors(action.error);
  return (
    <ActionForm
      label="New tenant"
      action={action}
      submit={async () => {
        await client.putTenant(name.trim(), description.trim() ? { description: description.trim() } : {});
        setName('');
        setDescription('');
        done();
      }}
    >
      <Field label="Tenant name" path="tenant" errors={errors}>
        <input value={name} onChange={onValue(setName)} required />
      </Field>
      <Field label="Description" path="description" errors={errors}>
        <input value={description} onChange={onValue(setDescription)} />
      </Field>
      <button className="primary" disabled={action.busy || !name.trim()}>
        Add tenant
      </button>
    </ActionForm>
  );
}

export function Tenants() {
  const { client, me, setTenant } = useSession();
  const tenants = useApi((c) => c.listTenants());
  return (
    <section className="card" aria-labelledby="tenants-h">
      <h2 id="tenants-h">Tenants</h2>
      <Data q={tenants} what="tenants" empty="No tenants.">
        {(list) => (
          <Table headers={['Name', 'Description', 'Created', 'Actions']}>
            {list.map((t: Tenant) => (
              <tr key={t.name}>
                <td>{t.name}</td>
                <td>{t.description ?? ''}</td>
                <td>{time(t.createdAt)}</td>
                <td className="buttons">
                  <button type="button" onClick={() => setTenant(t.name)}>
                    Switch to {t.name}
                  </button>
                  {me.platformAdmin && t.name !== 'default' && (
                    <ConfirmButton label={`Delete tenant ${t.name}`} danger question={`Delete tenant ${t.name}? It must have no sets, apps or images.`} onConfirm={() => client.deleteTenant(t.name).then(tenants.reload)} />
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Data>
      {me.platformAdmin && <CreateTenant done={tenants.reload} />}
    </section>
  );
}

function RoleSelect({ value, onChange, label }: { value: TenantRole; onChange: (r: TenantRole) => void; label: string }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as TenantRole)}>
      {TENANT_ROLES.map((r) => (
        <option key={r}>{r}</option>
      ))}
    </select>
  );
}

function Grant({ done }: { done: () => void }) {
  const { client, tenant } = useSession();
  const [user, setUser] = useState('');
  const [role, setRole] = useState<TenantRole>('developer');
  const action = useAction();
  const errors = fieldErrors(action.error);
  return (
    <ActionForm
      label="Grant a role"
      action={action}
      submit={async () => {
        await client.grantRole(tenant, user.trim(), role);
        setUser('');
        done();
      }}
    >
      <Field label="User" path="user" errors={errors}>
        <input value={user} onChange={onValue(setUser)} required />
      </Field>
      <label>
        Role
        <RoleSelect label="Role" value={role} onChange={setRole} />
      </label>
      <button className="primary" disabled={action.busy || !user.trim()}>
        Grant role
      </button>
    </ActionForm>
  );
}

/** The current tenant's members (its admins only: others are not shown the list). */
export function Members() {
  const { client, tenant } = useSession();
  const info = useApi((c) => c.getTenant(tenant), [tenant]);
  const change = useAction();
  return (
    <section className="card" aria-labelledby="members-h">
      <h2 id="members-h">Members of {tenant}</h2>
      <Data q={info} what="members">
        {(t) =>
          !t.members?.length ? (
            <p className="state empty">No members yet.</p>
          ) : (
            <Table headers={['User', 'Role', 'Actions']}>
              {t.members.map((m) => (
                <tr key={m.user}>
                  <td>{m.user}</td>
                  <td>
                    <RoleSelect label={`Role of ${m.user}`} value={m.role} onChange={(r) => void change.run(() => client.grantRole(tenant, m.user, r).then(info.reload))} />
                  </td>
                  <td>
                    <ConfirmButton label={`Revoke ${m.user}`} danger question={`Take ${m.user}'s role in ${tenant} away?`} onConfirm={() => client.revokeRole(tenant, m.user).then(info.reload)} />
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Data>
      <ErrorBox error={change.error} />
      <Grant done={info.reload} />
    </section>
  );
}
