import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRuntimeError, parseServersState, runtimeCommand, slotCommands, stateOfAdminBits } from './runtime.js';

const SHOW = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 app:default:web 1 s1 10.0.0.5 2 4 1 1 12 1 0 0 8 0 0 0 - 8080 - 0 0 - - 0
3 app:default:web 2 s2 10.0.0.6 2 12 1 1 3 1 0 0 8 0 0 0 - 8080 - 0 0 - - 0
3 app:default:web 3 s3 0.0.0.0 0 5 1 1 40 1 0 0 8 0 0 0 - 8080 - 0 0 - - 0
`;

describe('runtime API', () => {
  let dir: string;
  let fake: Server;
  const received: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-rt-'));
    fake = createServer((sock) => {
      sock.setEncoding('utf8').once('data', (d: string) => {
        received.push(d);
        sock.end(d.startsWith('show servers state') ? SHOW : '\n');
      });
    });
    await new Promise<void>((r) => fake.listen(join(dir, 'admin.sock'), r));
  });

  after(async () => {
    fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends one command per connection, newline-terminated, and reads the whole answer', async () => {
    const answer = await runtimeCommand(join(dir, 'admin.sock'), 'show servers state app:default:web');
    assert.equal(received.at(-1), 'show servers state app:default:web\n');
    assert.deepEqual(parseServersState(answer), [
      { backend: 'app:default:web', server: 's1', addr: '10.0.0.5', port: 8080, state: 'ready' },
      { backend: 'app:default:web', server: 's2', addr: '10.0.0.6', port: 8080, state: 'drain' },
      { backend: 'app:default:web', server: 's3', addr: '0.0.0.0', port: 8080, state: 'maint' },
    ]);
  });

  it('rejects when nothing listens', async () => {
    await assert.rejects(runtimeCommand(join(dir, 'nothing.sock'), 'show info'));
  });

  it('reads admin bits: a slot enabled after `disabled` in the config is ready', () => {
    assert.equal(stateOfAdminBits(0), 'ready');
    assert.equal(stateOfAdminBits(4), 'ready');
    assert.equal(stateOfAdminBits(5), 'maint');
    assert.equal(stateOfAdminBits(8 | 4), 'drain');
    assert.equal(stateOfAdminBits(1 | 8), 'maint');
  });

  it('builds the commands that take a slot to its wanted address and state', () => {
    const cur = { backend: 'b', server: 's3', addr: '0.0.0.0', port: 80, state: 'maint' as const };
    assert.deepEqual(slotCommands('b', 's3', cur, { addr: '10.0.0.7', port: 8080, state: 'ready' }), ['set server b/s3 addr 10.0.0.7 port 8080', 'set server b/s3 state ready']);
    assert.deepEqual(slotCommands('b', 's3', { ...cur, addr: '10.0.0.7', port: 8080, state: 'ready' }, { addr: '10.0.0.7', port: 8080, state: 'drain' }), ['set server b/s3 state drain']);
    assert.deepEqual(slotCommands('b', 's3', { ...cur, addr: '10.0.0.7', port: 8080, state: 'drain' }, { addr: '10.0.0.7', port: 8080, state: 'maint' }), ['set server b/s3 state maint']);
    assert.deepEqual(slotCommands('b', 's3', cur, { addr: '0.0.0.0', port: 80, state: 'maint' }), []);
  });

  it('tells HAProxy complaints from its informational answers', () => {
    assert.equal(isRuntimeError('\n'), false);
    assert.equal(isRuntimeError("IP changed from '0.0.0.0' to '10.0.0.7', port changed from '80' to '8080' by 'stats socket command'\n"), false);
    assert.equal(isRuntimeError('No such server.\n'), true);
  });
});
