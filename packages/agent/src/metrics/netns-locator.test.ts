import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
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

test('netns: the oldest process of the namespace is taken; when it is gone another is found at once', async () => {
  const proc = await mkdtemp(join(tmpdir(), 'wharf-proc-'));
  try {
    const ns = join(proc, 'netns');
    await symlink('/proc/self/ns/net', ns);
    // Two processes in the namespace: 7 started first (a dockerd), 5 later (a passing runc, its PID from a wrap).
    const proc1 = async (pid: number, start: number) => {
      await mkdir(join(proc, String(pid), 'ns'), { recursive: true });
      await symlink('/proc/self/ns/net', join(proc, String(pid), 'ns', 'net'));
      // comm with a space and a parenthesis, as a process may name itself.
      await writeFile(join(proc, String(pid), 'stat'), `${pid} (a b) c) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10\n`);
    };
    await proc1(5, 900);
    await proc1(7, 100);
    const locator = new NetnsLocator(ns, proc);
    assert.equal(await locator.netDev(1_000), join(proc, '7/net/dev'));
    await rm(join(proc, '7'), { recursive: true });
    assert.equal(await locator.netDev(2_000), join(proc, '5/net/dev'), 'looked for again at once, not a minute later');
    await rm(join(proc, '5'), { recursive: true });
    assert.equal(await locator.netDev(3_000), undefined);
    await proc1(9, 50);
    assert.equal(await locator.netDev(4_000), undefined, 'after a scan that found none, the next is a minute away');
    assert.equal(await locator.netDev(70_000), join(proc, '9/net/dev'));
  } finally {
    await rm(proc, { recursive: true, force: true });
  }
});
