import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsLocator } from './netns-locator.js';

test('netns: the agent\'s own namespace and /proc/PID/ns/net are read directly', async () => {
  assert.equal(await new NetnsLocator(undefined).netDev(), '/proc/self/net/dev');
  assert.equal(await new NetnsLocator('/proc/4242/ns/net').netDev(), '/proc/4242/net/dev');
});

test('netns: a namespace file (like /run/netns/NAME) is read through a process inside it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-netns-'));
  try {
    const ns = join(dir, 'ns');
    await symlink('/proc/self/ns/net', ns);
    const locator = new NetnsLocator(ns);
    const dev = await locator.netDev();
    const pid = /^\/proc\/(\d+)\/net\/dev$/.exec(dev ?? '')?.[1];
    assert.ok(pid, `found ${dev}`);
    assert.equal((await stat(`/proc/${pid}/ns/net`)).ino, (await stat('/proc/self/ns/net')).ino);
    assert.equal(await locator.netDev(), dev, 'kept');

    const notNs = join(dir, 'file');
    await writeFile(notNs, '');
    assert.equal(await new NetnsLocator(notNs).netDev(), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
