/**
 * A real wharf-server for CLI tests, as a child process: its own data directory (SQLite
 * store, admin token), a port the kernel picks on 127.0.0.1, no registry, no load
 * balancer and no SSH gateway. The CLI package does not depend on the server's code: the built server is
 * found through the workspace and run like `npm start` runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RealServer {
  url: string;
  /** The bootstrap admin token (a platform admin). */
  admin: string;
  stop(): Promise<void>;
}

const SERVER_MAIN = fileURLToPath(new URL('./main.js', import.meta.resolve('@wharf/server')));

export async function startRealServer(startTimeoutMs = 30_000): Promise<RealServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-server-'));
  const child = spawn(process.execPath, [SERVER_MAIN, '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--lb', 'off', '--registry', 'off', '--ssh-listen', 'off', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`wharf-server did not start within ${startTimeoutMs} ms:\n${log}`)), startTimeoutMs);
      const onLine = (line: string) => {
        // pino's JSON lines: the one that says where the server listens.
        if (!line.includes('"wharf-server listening"')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      };
      let pending = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        const lines = (pending + d).split('\n');
        pending = lines.pop() ?? '';
        lines.forEach(onLine);
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`wharf-server exited (${code ?? signal}) before listening:\n${log}`));
      });
    });
    return { url, admin: readFileSync(join(dir, 'admin.token'), 'utf8').trim(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
