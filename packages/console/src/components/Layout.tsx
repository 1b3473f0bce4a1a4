/** The frame of every page: navigation, tenant switcher, who is logged in. */
import { useState, type ReactNode } from 'react';
import { NavLink } from 'react-router-dom';
import { useSession } from '../session.js';

const NAV: Array<{ to: string; label: string }> = [
  { to: '/', label: 'Overview' },
  { to: '/hosts', label: 'Hosts' },
  { to: '/apps', label: 'Apps' },
  { to: '/sets', label: 'Sets' },
  { to: '/create', label: 'Create' },
  { to: '/volumes', label: 'Volumes' },
  { to: '/networks', label: 'Networks' },
  { to: '/images', label: 'Images' },
  { to: '/access', label: 'Access' },
  { to: '/audit', label: 'Audit' },
];

export function Layout({ children }: { children: ReactNode }) {
  const s = useSession();
  const [open, setOpen] = useState(false);
  return (
    <div className="layout">
      <header className="top">
        <button type="button" className="menu" aria-label="Menu" aria-expanded={open} onClick={() => setOpen(!open)}>
          ☰
        </button>
        <span className="brand">Wharf</span>
        <label className="tenant">
          Tenant{' '}
          <select aria-label="Tenant" value={s.tenant} onChange={(e) => s.setTenant(e.target.value)}>
            {s.tenants.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <span className="who">
          {s.me.name}
          {s.me.platformAdmin ? ' (platform admin)' : s.me.roles[s.tenant] ? ` (${s.me.roles[s.tenant]})` : ''}
        </span>
        <button type="button" onClick={() => void s.logout()}>
          Log out
        </button>
      </header>
      <nav className={open ? 'side open' : 'side'} aria-label="Main" onClick={() => setOpen(false)}>
        {NAV.map((n) => (
          <NavLink key={n.to} to={n.to} end={n.to === '/'}>
            {n.label}
          </NavLink>
        ))}
      </nav>
      <main>{children}</main>
    </div>
  );
}
