/** Users of the platform (platform admins): list, create with a password, delete. */
import { useState } from 'react';
import { PASSWORD_MIN, TENANT_ROLES, type TenantRole, type User } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Field } from '../components/Field.js';
import { Data, fieldErrors } from '../components/States.js';
import { time } from '../format.js';
import { useSession } from '../session.js';
import { Table } from './AccessTable.js';
import { ActionForm, onValue } from './AccessField.js';

function CreateUser({ done }: { done: () => void }) {
  const { client, tenant } = useSession();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const [role, setRole] = useState<TenantRole | ''>('developer');
  const action = useAction();
  const errors = fieldErrors(action.error);
  return (
    <ActionForm
      label="New user"
      action={action}
      submit={async () => {
        await client.createUser(name.trim(), { password, platformAdmin: admin, ...(role ? { roles: { [tenant]: role } } : {}) });
        setName('');
        setPassword('');
        done();
      }}
    >
      <Field label="User name" path="name" errors={errors}>
        <input value={name} onChange={onValue(setName)} autoComplete="off" required />
      </Field>
      <Field label="Password" path="password" errors={errors}>
        <input type="password" value={password} onChange={onValue(setPassword)} autoComplete="new-password" minLength={PASSWORD_MIN} required />
      </Field>
      <Field label={`Role in ${tenant}`} path="roles" errors={errors}>
        <select value={role} onChange={(e) => setRole(e.target.value as TenantRole | '')}>
          <option value="">none</option>
          {TENANT_ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </Field>
      <label className="check">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
        Platform admin
      </label>
      <button className="primary" disabled={action.busy || !name.trim() || !password}>
        Add user
      </button>
    </ActionForm>
  );
}

export function Users() {
  const { client, me } = useSession();
  const users = useApi((c) => c.listUsers());
  return (
    <section className="card" aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <Data q={users} what="users" empty="No users yet: only the admin token can log in.">
        {(list) => (
          <Table headers={['Name', 'Roles', 'Created', 'Actions']}>
            {list.map((u: User) => (
              <tr key={u.name}>
                <td>{u.name}</td>
                <td>
                  {u.platformAdmin && <span className="badge busy">platform admin</span>}{' '}
                  {Object.entries(u.roles)
                    .map(([t, r]) => `${t}: ${r}`)
                    .join(', ')}
                </td>
                <td>{time(u.createdAt)}</td>
                <td>
                  {u.name !== me.name && (
                    <ConfirmButton label={`Delete user ${u.name}`} danger question={`Delete user ${u.name}? Their tokens and SSH keys go with them.`} onConfirm={() => client.deleteUser(u.name).then(users.reload)} />
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Data>
      <CreateUser done={users.reload} />
    </section>
  );
}
