/** The caller's SSH public keys for the SSH gateway: list, add, remove. */
import { useState } from 'react';
import type { SshKey } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Field } from '../components/Field.js';
import { Data, fieldErrors } from '../components/States.js';
import { time } from '../format.js';
import { useSession } from '../session.js';
import { Table } from './AccessTable.js';
import { ActionForm, onValue } from './AccessField.js';

function AddKey({ done }: { done: () => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const action = useAction();
  const errors = fieldErrors(action.error);
  return (
    <ActionForm
      className=""
      label="Add an SSH key"
      action={action}
      submit={async () => {
        await client.addSshKey({ name: name.trim(), publicKey: publicKey.trim() });
        setName('');
        setPublicKey('');
        done();
      }}
    >
      <div className="toolbar">
        <Field label="Key name" path="name" errors={errors}>
          <input value={name} onChange={onValue(setName)} placeholder="laptop" required />
        </Field>
        <Field label="Public key" path="publicKey" errors={errors}>
          <textarea value={publicKey} onChange={onValue(setPublicKey)} rows={2} placeholder="ssh-ed25519 AAAA… me@laptop" required />
        </Field>
        <button className="primary" disabled={action.busy || !name.trim() || !publicKey.trim()}>
          Add key
        </button>
      </div>
    </ActionForm>
  );
}

export function SshKeys() {
  const { client } = useSession();
  const keys = useApi((c) => c.listSshKeys());
  return (
    <section className="card" aria-labelledby="ssh-h">
      <h2 id="ssh-h">Your SSH keys</h2>
      <p className="muted">For the SSH gateway: ssh into a set&apos;s container with one of these keys.</p>
      <Data q={keys} what="SSH keys" empty="No SSH keys yet.">
        {(list) => (
          <Table headers={['Name', 'Type', 'Fingerprint', 'Added', 'Actions']}>
            {list.map((k: SshKey) => (
              <tr key={k.name}>
                <td>
                  {k.name} {k.comment && <small>{k.comment}</small>}
                </td>
                <td>{k.type}</td>
                <td className="mono">{k.fingerprint}</td>
                <td>{time(k.addedAt)}</td>
                <td>
                  <ConfirmButton label={`Remove key ${k.name}`} danger question={`Remove SSH key ${k.name}?`} onConfirm={() => client.removeSshKey(k.name).then(keys.reload)} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Data>
      <AddKey done={keys.reload} />
    </section>
  );
}
