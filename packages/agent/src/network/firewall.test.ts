import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countJumps, renderFirewall, renderFirewallRemoval } from './firewall.js';

test('firewall: the chain, its jump, the fixed accepts, one rule per source and port, then drop', () => {
  const text = renderFirewall(
    { allow: [{ cidr: '10.0.0.0/24' }, { cidr: '10.9.0.7/32', ports: [{ port: 80 }, { port: 53, protocol: 'udp' }] }] },
    ['10.0.0.12', '192.168.1.5', '10.0.0.12'],
    0,
  );
  assert.equal(text, [
    '*filter',
    ':WHARF-IN - [0:0]',
    '-I INPUT 1 -j WHARF-IN',
    '-A WHARF-IN -i lo -j ACCEPT',
    '-A WHARF-IN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A WHARF-IN -s 10.0.0.12/32 -j ACCEPT',
    '-A WHARF-IN -s 192.168.1.5/32 -j ACCEPT',
    '-A WHARF-IN -s 10.0.0.0/24 -j ACCEPT',
    '-A WHARF-IN -s 10.9.0.7/32 -p tcp --dport 80 -j ACCEPT',
    '-A WHARF-IN -s 10.9.0.7/32 -p udp --dport 53 -j ACCEPT',
    '-A WHARF-IN -j DROP',
    'COMMIT',
    '',
  ].join('\n'));
});

test('firewall: the jump is kept when there is one, and duplicates are removed', () => {
  const lines = (jumps: number) => renderFirewall({ allow: [] }, [], jumps).split('\n').filter((l) => l.includes('INPUT'));
  assert.deepEqual(lines(0), ['-I INPUT 1 -j WHARF-IN']);
  assert.deepEqual(lines(1), []);
  assert.deepEqual(lines(3), ['-D INPUT -j WHARF-IN', '-D INPUT -j WHARF-IN']);
  // Nothing allowed: only the host, loopback and replies get in.
  assert.match(renderFirewall({ allow: [] }, [], 1), /ESTABLISHED,RELATED -j ACCEPT\n-A WHARF-IN -j DROP\nCOMMIT/);
});

test('firewall: input that is not an address or a port is refused, not written into the rules', () => {
  const bad: Parameters<typeof renderFirewall>[0][] = [
    { allow: [{ cidr: '10.0.0.0/24 -j ACCEPT\n-F' }] },
    { allow: [{ cidr: '10.0.0.300/24' }] },
    { allow: [{ cidr: '10.0.0.0' }] },
    { allow: [{ cidr: '10.0.0.0/24', ports: [{ port: 0 }] }] },
    { allow: [{ cidr: '10.0.0.0/24', ports: [{ port: 80, protocol: 'icmp' as 'tcp' }] }] },
  ];
  for (const fw of bad) assert.throws(() => renderFirewall(fw, [], 0), /not/, JSON.stringify(fw));
  assert.throws(() => renderFirewall({ allow: [] }, ['eth0'], 0), /host address/);
});

test('firewall: removal deletes every jump and the chain (declaring it first, so -X cannot fail)', () => {
  assert.equal(renderFirewallRemoval(1), '*filter\n:WHARF-IN - [0:0]\n-D INPUT -j WHARF-IN\n-X WHARF-IN\nCOMMIT\n');
  assert.equal(renderFirewallRemoval(0), '*filter\n:WHARF-IN - [0:0]\n-X WHARF-IN\nCOMMIT\n');
});

test('firewall: jumps counted from iptables -S', () => {
  const s = '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-N WHARF-IN\n-A INPUT -j WHARF-IN\n-A INPUT -j WHARF-IN\n-A INPUT -s 1.2.3.4/32 -j WHARF-IN-X\n-A WHARF-IN -j DROP\n';
  assert.equal(countJumps(s), 2);
  assert.equal(countJumps(''), 0);
});
