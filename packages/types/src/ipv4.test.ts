import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv4, networkRange, parseCidr, parseIpv4, rangeSize, validateNetworkSpec } from './ipv4.js';

test('parses and formats addresses', () => {
  assert.equal(parseIpv4('10.0.0.1'), 167772161);
  assert.equal(formatIpv4(167772161), '10.0.0.1');
  assert.equal(formatIpv4(parseIpv4('255.255.255.255') as number), '255.255.255.255');
  for (const bad of ['10.0.0', '10.0.0.256', 'a.b.c.d', '10.0.0.1/24']) assert.equal(parseIpv4(bad), undefined, bad);
  assert.deepEqual(parseCidr('10.99.0.7/24'), { base: parseIpv4('10.99.0.0'), prefix: 24, first: parseIpv4('10.99.0.0'), last: parseIpv4('10.99.0.255'), size: 256 });
  assert.equal(parseCidr('10.99.0.0/33'), undefined);
});

test('a network hands out its range, never the gateway', () => {
  const whole = { subnet: '10.99.0.0/24', gateway: '10.99.0.1' };
  assert.deepEqual(networkRange(whole), { start: parseIpv4('10.99.0.1'), end: parseIpv4('10.99.0.254') });
  assert.equal(rangeSize(whole), 253);
  assert.equal(rangeSize({ ...whole, range: '10.99.0.100-10.99.0.109' }), 10);
  assert.equal(rangeSize({ ...whole, range: '10.99.0.1-10.99.0.10' }), 9);
});

test('network specs are checked field by field', () => {
  const cases = [
    { spec: { name: 'n', subnet: '10.99.0.0/24', gateway: '10.99.0.1' }, want: [] },
    { spec: { name: 'n', subnet: '10.99.0.5/24', gateway: '10.99.0.1' }, want: ['subnet: "10.99.0.5/24" has host bits set; the subnet is 10.99.0.0/24'] },
    { spec: { name: 'n', subnet: '10.99.0.0/24', gateway: '10.98.0.1' }, want: ['gateway: 10.98.0.1 is not in 10.99.0.0/24'] },
    { spec: { name: 'n', subnet: '10.99.0.0/24', gateway: '10.99.0.1', range: '10.99.0.9-10.99.0.2' }, want: ['range: "10.99.0.9-10.99.0.2" is not a range (use first-last, e.g. 10.99.0.100-10.99.0.250)'] },
    { spec: { name: 'n', subnet: '10.99.0.0/24', gateway: '10.99.0.1', range: '10.99.0.200-10.99.1.5' }, want: ['range: 10.99.0.200-10.99.1.5 is not inside 10.99.0.0/24'] },
    { spec: { name: 'n', subnet: '10.99.0.0/24', gateway: '10.99.0.1', range: '10.99.0.1-10.99.0.1' }, want: ['range: the range holds no address besides the gateway'] },
    { spec: { name: 'n', subnet: '10.0.0.0/4', gateway: '10.0.0.1' }, want: ['subnet: /4 is not supported (use /8 to /30)'] },
  ];
  for (const c of cases) assert.deepEqual(validateNetworkSpec(c.spec).map((e) => `${e.path}: ${e.message}`), c.want, JSON.stringify(c.spec));
});
