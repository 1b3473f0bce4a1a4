import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName, renderConfig } from './config.js';

const paths = { adminSocket: '/d/admin.sock', stateFile: '/d/servers.state' };

describe('haproxy.cfg', () => {
  it('has the admin socket, the state file and no frontend without apps', () => {
    const cfg = renderConfig(paths, []);
    assert.match(cfg, /stats socket \/d\/admin\.sock mode 600 level admin expose-fd listeners/);
    assert.match(cfg, /server-state-file \/d\/servers\.state/);
    assert.match(cfg, /load-server-state-from-file global/);
    assert.doesNotMatch(cfg, /frontend/);
  });

  it('gives each app a frontend and a row of disabled slots, in a stable order', () => {
    const a = { tenant: 'default', appkey: 'web', lb: { port: 8081, targetPort: 8080 } };
    const b = { tenant: 'default', appkey: 'api', lb: { port: 9000, targetPort: 80, bind: '127.0.0.1', maxSets: 8 } };
    const cfg = renderConfig(paths, [a, b]);
    assert.equal(cfg, renderConfig(paths, [b, a]));
    assert.ok(cfg.indexOf('frontend app:default:api') < cfg.indexOf('frontend app:default:web'));
    assert.match(cfg, /frontend app:default:web\n {2}bind 0\.0\.0\.0:8081\n {2}default_backend app:default:web/);
    assert.match(cfg, /backend app:default:web\n {2}balance roundrobin\n {2}server-template s 1-64 0\.0\.0\.0:8080 disabled/);
    assert.match(cfg, /bind 127\.0\.0\.1:9000/);
    assert.match(cfg, /server-template s 1-8 0\.0\.0\.0:80 disabled/);
    assert.equal(backendName('t1', 'com.example.web'), 'app:t1:com.example.web');
  });
});
