/** The form that creates a platform network (platform admins); the server's checks show at each field. */
import { useState, type FormEvent } from 'react';
import type { NetworkSpec } from '@wharf/types';
import { useAction } from '../api.js';
import { Field, FormError } from '../components/Field.js';
import { fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';

type Key = 'name' | 'subnet' | 'gateway' | 'range' | 'zone' | 'vlan';
const EMPTY: Record<Key, string> = { name: '', subnet: '', gateway: '', range: '', zone: '', vlan: '' };

const FIELDS: Array<{ field: Key; label: string; placeholder: string; required?: boolean }> = [
  { field: 'name', label: 'Name', placeholder: 'prod-a', required: true },
  { field: 'subnet', label: 'Subnet', placeholder: '10.99.0.0/24', required: true },
  { field: 'gateway', label: 'Gateway', placeholder: '10.99.0.1', required: true },
  { field: 'range', label: 'Range (optional)', placeholder: '10.99.0.10-10.99.0.200' },
  { field: 'zone', label: 'Zone (optional)', placeholder: 'dc1' },
  { field: 'vlan', label: 'VLAN (optional)', placeholder: '1-4094' },
];

function toSpec(v: Record<Key, string>, isDefault: boolean): NetworkSpec {
  return {
    name: v.name.trim(),
    subnet: v.subnet.trim(),
    gateway: v.gateway.trim(),
    ...(v.range.trim() ? { range: v.range.trim() } : {}),
    ...(v.zone.trim() ? { zone: v.zone.trim() } : {}),
    ...(v.vlan.trim() ? { vlan: Number(v.vlan) } : {}),
    ...(isDefault ? { default: true } : {}),
  };
}

export function NetworkForm({ created }: { created: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const [values, setValues] = useState(EMPTY);
  const [isDefault, setDefault] = useState(false);
  const errors = fieldErrors(action.error);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => client.createNetwork(toSpec(values, isDefault)))) {
      setValues(EMPTY);
      setDefault(false);
      created();
    }
  };

  return (
    <form className="card wide network-form" aria-label="New network" onSubmit={(e) => void submit(e)}>
      <h2>New network</h2>
      <div className="toolbar">
        {FIELDS.map(({ field, label, placeholder, required }) => (
          <Field key={field} label={label} path={field} errors={errors}>
            <input
              value={values[field]}
              placeholder={placeholder}
              required={required}
              inputMode={field === 'vlan' ? 'numeric' : undefined}
              onChange={(e) => setValues({ ...values, [field]: e.target.value })}
            />
          </Field>
        ))}
        <label className="check">
          <span>
            <input type="checkbox" checked={isDefault} onChange={(e) => setDefault(e.target.checked)} /> Default network
          </span>
        </label>
        <button className="primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create network'}
        </button>
      </div>
      <FormError error={action.error} paths={FIELDS.map((f) => f.field)} />
    </form>
  );
}
