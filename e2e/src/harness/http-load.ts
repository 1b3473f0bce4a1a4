/**
 * A steady, bounded HTTP load: `rps` GETs a second, each on a new connection
 * (no keep-alive), at most `maxInFlight` at once, counting answers and failures.
 * It runs as a child process inside a network namespace (the load balancer's):
 *
 *   const load = startHttpLoad({ netns: cluster.switch.netns, url: 'http://10.0.0.1:8081/', rps: 20 });
 *   …; const { ok, failed, errors } = await load.stop();
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { netnsPath } from './network.js';

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Up to 20 failures, as `status 503` or the error's message. */
  errors: string[];
}

export interface HttpLoad {
  /** Stops sending, waits for the requests in flight and returns the counts. */
  stop(): Promise<LoadResult>;
  /** The counts so far. */
  current(): LoadResult;
}

export function startHttpLoad(opts: { netns: string; url: string; rps: number; maxInFlight?: number }): HttpLoad {
  const args = [`--net=${netnsPath(opts.netns)}`, process.execPath, fileURLToPath(import.meta.url), opts.url, String(opts.rps), String(opts.maxInFlight ?? 50)];
  const child = spawn('nsenter', args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let last: LoadResult = { sent: 0, ok: 0, failed: 0, errors: [] };
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) last = JSON.parse(line) as LoadResult;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    current: () => last,
    async stop() {
      child.stdin.end();
      await exited;
      return last;
    },
  };
}

/** The child: sends until its stdin closes, printing the counts every second and at the end. */
function runLoad(url: string, rps: number, maxInFlight: number): void {
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, errors: [] };
  let inFlight = 0;
  let stopping = false;
  const fail = (why: string) => {
    result.failed++;
    if (result.errors.length < 20) result.errors.push(why);
  };
  const print = () => process.stdout.write(`${JSON.stringify(result)}\n`);
  const finish = () => {
    if (stopping && inFlight === 0) {
      print();
      process.exit(0);
    }
  };
  const one = () => {
    if (inFlight >= maxInFlight) return fail('too many requests in flight');
    inFlight++;
    result.sent++;
    let settled = false;
    const done = (why?: string) => {
      if (settled) return;
      settled = true;
      if (why) fail(why);
      else result.ok++;
      inFlight--;
      finish();
    };
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      res.on('error', (err) => done(err.message));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => done(err.message));
    req.end();
  };
  const sender = setInterval(one, 1000 / rps);
  const printer = setInterval(print, 1000);
  process.stdin.resume().on('end', () => {
    stopping = true;
    clearInterval(sender);
    clearInterval(printer);
    finish();
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url, rps, maxInFlight] = process.argv.slice(2);
  runLoad(url ?? '', Number(rps), Number(maxInFlight));
}
