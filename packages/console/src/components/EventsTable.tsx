/**
 * A table of events (sets, apps, or both on the overview): when, type (warnings
 * as a badge), an optional object column, reason, message and an optional host column.
 * The caller decides the order and how many.
 */
import type { ReactNode } from 'react';
import { age, time } from '../format.js';
import { Badge } from './Badge.js';

export interface EventRow {
  time: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  host?: string;
}

/** Newest first, at most `limit`. */
export function newestFirst<E extends EventRow>(events: E[], limit: number): E[] {
  return [...events].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)).slice(0, limit);
}

export function EventsTable<E extends EventRow>({ events, label, object, host }: { events: E[]; label: string; object?: (e: E) => ReactNode; host?: boolean }) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Type</th>
            {object && <th scope="col">Object</th>}
            <th scope="col">Reason</th>
            <th scope="col">Message</th>
            {host && <th scope="col">Host</th>}
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            <tr key={`${e.time}-${i}`}>
              <td>
                <time dateTime={e.time} title={time(e.time)}>
                  {age(e.time)} ago
                </time>
              </td>
              <td>{e.type === 'Warning' ? <Badge state="Warning" /> : e.type}</td>
              {object && <td>{object(e)}</td>}
              <td>{e.reason}</td>
              <td>{e.message}</td>
              {host && <td>{e.host ?? '–'}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
