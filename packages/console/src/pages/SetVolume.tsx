/**
 * The set's volume usage against its quota, from the host's last heartbeat. (The
 * list route answers from the store alone; the single-volume route also asks the
 * agent for snapshots, too much for a poll: they are on the volume's own page.)
 */
import { Link } from 'react-router-dom';
import { SLOW_REFRESH_MS, useApi } from '../api.js';
import { Bar } from '../components/Bar.js';
import { Data } from '../components/States.js';
import { bytes, time } from '../format.js';
import { volumeHref } from '../links.js';

export function SetVolume({ appkey, id }: { appkey: string; id: string }) {
  const vol = useApi((c) => c.listVolumes({ appkey }).then((vs) => vs.find((v) => v.id === id) ?? null), [appkey, id], SLOW_REFRESH_MS);
  return (
    <Data q={vol} what="volume">
      {(v) =>
        v === null ? (
          <p className="muted">No volume on a host yet.</p>
        ) : (
          <>
            {v.used === undefined ? (
              <p className="muted">Volume of {bytes(v.size)}: usage not reported yet.</p>
            ) : (
              <div className="set-volume" title={v.reportedAt ? `reported ${time(v.reportedAt)}` : undefined}>
                <Bar label="Volume" used={v.used} total={v.quota ?? v.size} format={bytes} />
              </div>
            )}
            <p>
              <Link to={volumeHref(v)}>Volume and snapshots</Link>
            </p>
          </>
        )
      }
    </Data>
  );
}
