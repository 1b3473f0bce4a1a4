/**
 * A container's log: the last N lines, or followed as they come (the stream is
 * aborted when the choice changes or the page goes), with a search that keeps the
 * matching lines and highlights the match.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ErrorBox } from '../components/States.js';
import { useSession } from '../session.js';
import { SetPick } from './SetPick.js';

/** Lines kept in the page; older ones are dropped while following. */
const MAX_LINES = 5000;
const TAILS = [100, 500, 1000, 5000];
// Colour and cursor escapes of a terminal (ESC [ … letter), which a <pre> cannot show.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `re` has one group: split keeps the matches at the odd places. */
function highlight(line: string, re: RegExp): ReactNode {
  return line.split(re).map((part, i) => (i % 2 ? <mark key={i}>{part}</mark> : part));
}

/** Streams the log into `lines`, a screenful at a time; stops on a new choice or unmount. */
function useLogLines(appkey: string, id: string, container: string, tail: number, follow: boolean, tick: number) {
  const { client } = useSession();
  const [lines, setLines] = useState<string[]>([]);
  const [status, setStatus] = useState<'loading' | 'following' | 'done'>('loading');
  const [error, setError] = useState<Error | undefined>();

  useEffect(() => {
    const ac = new AbortController();
    setLines([]);
    setError(undefined);
    setStatus(follow ? 'following' : 'loading');
    let partial = '';
    let pending: string[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (ac.signal.aborted || pending.length === 0) return;
      const add = pending;
      pending = [];
      setLines((l) => {
        const next = l.concat(add);
        return next.length > MAX_LINES ? next.slice(-MAX_LINES) : next;
      });
    };
    void (async () => {
      try {
        for await (const chunk of client.logs(appkey, id, { follow, tail, ...(container ? { container } : {}), signal: ac.signal })) {
          const parts = (partial + chunk).split('\n');
          partial = parts.pop() ?? '';
          pending.push(...parts.map((p) => p.replace(ANSI, '').replace(/\r$/, '')));
          timer ??= setTimeout(flush, 100);
        }
        if (partial) pending.push(partial.replace(ANSI, ''));
        flush();
        if (!ac.signal.aborted) setStatus('done');
      } catch (e) {
        if (ac.signal.aborted) return;
        flush();
        setError(e as Error);
        setStatus('done');
      }
    })();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [client, appkey, id, container, tail, follow, tick]);

  return { lines, status, error };
}

export function LogsViewer({ appkey, id, containers }: { appkey: string; id: string; containers: string[] }) {
  const [container, setContainer] = useState(containers[0] ?? '');
  const [tail, setTail] = useState(500);
  const [follow, setFollow] = useState(false);
  const [query, setQuery] = useState('');
  const [tick, setTick] = useState(0);
  const { lines, status, error } = useLogLines(appkey, id, container, tail, follow, tick);
  const box = useRef<HTMLPreElement>(null);

  const re = query ? new RegExp(`(${escapeRegExp(query)})`, 'i') : undefined;
  const shown = re ? lines.filter((l) => re.test(l)) : lines;

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [follow, lines]);

  return (
    <div className="logs-viewer">
      <div className="toolbar">
        {containers.length > 1 && <SetPick label="Logs from" value={container} options={containers} onChange={setContainer} />}
        <label>
          Tail
          <select value={tail} onChange={(e) => setTail(Number(e.target.value))}>
            {TAILS.map((t) => (
              <option key={t} value={t}>
                last {t} lines
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <label>
          Search logs
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        {!follow && (
          <button type="button" onClick={() => setTick((t) => t + 1)} disabled={status === 'loading'}>
            Reload logs
          </button>
        )}
        <span className="muted" role="status">
          {status === 'loading' ? 'Loading…' : status === 'following' ? 'Following' : ''}
          {query ? ` ${shown.length} of ${lines.length} lines match` : ` ${lines.length} lines`}
        </span>
      </div>
      <ErrorBox error={error} />
      <pre className="logs" ref={box} tabIndex={0} aria-label={`Log of ${container || 'the set'}`}>
        {shown.length === 0
          ? status === 'loading'
            ? ''
            : query
              ? 'No line matches.'
              : 'The log is empty.'
          : re
            ? shown.map((l, i) => (
                <span key={i}>
                  {highlight(l, re)}
                  {'\n'}
                </span>
              ))
            : shown.join('\n')}
      </pre>
    </div>
  );
}
