/** A labelled choice among names (a status, a host, a container); `all` adds an empty "all" choice. */
export function SetPick({ label, value, options, onChange, all, disabled }: { label: string; value: string; options: string[]; onChange: (v: string) => void; all?: boolean; disabled?: boolean }) {
  return (
    <label>
      {label}
      <select value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
        {all && <option value="">all</option>}
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
        {value && !options.includes(value) && <option>{value}</option>}
      </select>
    </label>
  );
}
