/**
 * A shell in one of the set's containers: xterm.js over the exec WebSocket, speaking
 * the exec frames of @wharf/types (stdin, resize and eof towards the container;
 * stdout, exit and error from it). Browsers cannot set headers on a WebSocket, so
 * the bearer token travels as a subprotocol next to the exec protocol.
 */
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { decodeExecControl, decodeExecData, encodeExecControl, encodeExecData, EXEC_WS_PROTOCOL, ExecChannel, WS_BEARER_PREFIX } from '@wharf/types';
import { useSession } from '../session.js';
import { SetPick } from './SetPick.js';

// xterm names its input "Terminal input"; a distinct name keeps the label "Terminal" for the whole terminal.
Terminal.strings.promptLabel = 'Shell input';
const utf8 = new TextEncoder();

type Phase = { kind: 'idle' } | { kind: 'connecting' } | { kind: 'open' } | { kind: 'exited'; code: number } | { kind: 'failed'; message: string };

function describe(p: Phase): string {
  switch (p.kind) {
    case 'idle':
      return 'Not connected.';
    case 'connecting':
      return 'Connecting…';
    case 'open':
      return 'Connected.';
    case 'exited':
      return `exited with ${p.code}`;
    case 'failed':
      return p.message;
  }
}

export function TerminalPanel({ appkey, id, containers }: { appkey: string; id: string; containers: string[] }) {
  const { client } = useSession();
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<{ t: Terminal; fit: FitAddon } | undefined>(undefined);
  const socket = useRef<WebSocket | undefined>(undefined);
  const [container, setContainer] = useState(containers[0] ?? '');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });

  // One xterm for the panel's life; it follows the size of its box.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const t = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 13, scrollback: 5000 });
    const fit = new FitAddon();
    t.loadAddon(fit);
    t.open(el);
    fit.fit();
    term.current = { t, fit };
    const send = (frame: Uint8Array | string) => {
      if (socket.current?.readyState === WebSocket.OPEN) socket.current.send(frame);
    };
    const input = t.onData((d) => send(encodeExecData(ExecChannel.stdin, utf8.encode(d))));
    const binary = t.onBinary((d) => send(encodeExecData(ExecChannel.stdin, Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff))));
    const size = t.onResize(({ cols, rows }) => send(encodeExecControl({ type: 'resize', cols, rows })));
    const refit = () => {
      if (el.clientWidth > 0) fit.fit();
    };
    const observer = new ResizeObserver(refit);
    observer.observe(el);
    window.addEventListener('resize', refit);
    return () => {
      window.removeEventListener('resize', refit);
      observer.disconnect();
      input.dispose();
      binary.dispose();
      size.dispose();
      socket.current?.close();
      socket.current = undefined;
      t.dispose();
      term.current = undefined;
    };
  }, []);

  const connect = () => {
    const x = term.current;
    if (!x) return;
    x.fit.fit();
    x.t.reset();
    const conn = client.execConnection(appkey, id, { cmd: [], tty: true, cols: x.t.cols, rows: x.t.rows, ...(container ? { container } : {}) });
    const token = (conn.headers.authorization ?? '').replace(/^Bearer /, '');
    const ws = new WebSocket(conn.url, token ? [EXEC_WS_PROTOCOL, WS_BEARER_PREFIX + token] : [EXEC_WS_PROTOCOL]);
    ws.binaryType = 'arraybuffer';
    socket.current = ws;
    let ended = false;
    setPhase({ kind: 'connecting' });
    ws.onopen = () => {
      setPhase({ kind: 'open' });
      x.t.focus();
    };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      if (typeof ev.data !== 'string') {
        const f = decodeExecData(new Uint8Array(ev.data));
        if (f && f.channel !== ExecChannel.stdin) x.t.write(f.data);
        return;
      }
      const c = decodeExecControl(ev.data);
      if (c?.type === 'exit') {
        ended = true;
        setPhase({ kind: 'exited', code: c.code });
      } else if (c?.type === 'error') {
        ended = true;
        setPhase({ kind: 'failed', message: `${c.code}: ${c.message}` });
      }
    };
    ws.onclose = (ev) => {
      if (socket.current === ws) socket.current = undefined;
      if (ended) return;
      // A refused upgrade reaches the browser only as a close without a reason.
      setPhase(
        ev.code === 1000 || ev.code === 1005
          ? { kind: 'idle' }
          : { kind: 'failed', message: `The session could not start or was cut (close ${ev.code}${ev.reason ? `: ${ev.reason}` : ''}): the container must be running and you need the developer role.` },
      );
    };
  };

  const disconnect = () => {
    socket.current?.close(1000);
    socket.current = undefined;
    setPhase({ kind: 'idle' });
  };

  const live = phase.kind === 'open' || phase.kind === 'connecting';
  return (
    <div className="terminal-panel">
      <div className="toolbar">
        {containers.length > 1 && <SetPick label="Shell in" value={container} options={containers} onChange={setContainer} disabled={live} />}
        {live ? (
          <button type="button" onClick={disconnect}>
            Disconnect
          </button>
        ) : (
          <button type="button" className="primary" onClick={connect} disabled={containers.length === 0}>
            Connect
          </button>
        )}
        <span className={phase.kind === 'failed' ? 'field-error' : 'muted'} role="status">
          {phase.kind === 'idle' && containers.length === 0 ? 'No container runs: start the set to open a shell.' : describe(phase)}
        </span>
      </div>
      <div className="xterm-host" ref={host} role="region" aria-label="Terminal" />
    </div>
  );
}
