/**
 * The namespace end of a NetnsPortal (netns-portal.ts), run inside the host's network
 * namespace: `node portal-child.js ADDRESS PORT=SOCKET…` listens on ADDRESS:PORT and
 * passes each connection to the unix socket. Prints "ready" once listening; exits
 * when its stdin closes.
 */
import { connect, createServer } from 'node:net';
import { splice } from './netns-portal.js';

const [address, ...pairs] = process.argv.slice(2);
if (!address || pairs.length === 0) {
  process.stderr.write('usage: portal-child ADDRESS PORT=SOCKET…\n');
  process.exit(2);
}
await Promise.all(pairs.map((pair) => {
  const eq = pair.indexOf('=');
  const port = Number(pair.slice(0, eq));
  const socket = pair.slice(eq + 1);
  const server = createServer((conn) => splice(conn, connect(socket)));
  return new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, address, resolve));
}));
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.once('end', () => process.exit(0));
process.stdin.once('close', () => process.exit(0));
