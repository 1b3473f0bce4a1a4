import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFiles } from './open-files.js';

test('reads through a kept descriptor from the start each time, grows its buffer, closes what a collection did not read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-open-files-'));
  const files = new OpenFiles();
  try {
    const a = join(dir, 'cpuacct.usage');
    const b = join(dir, 'memory.stat');
    writeFileSync(a, '100\n');
    writeFileSync(b, 'x'.repeat(40_000));
    assert.equal(files.readText(a), '100\n');
    assert.equal(files.readText(b).length, 40_000, 'longer than the first buffer');
    assert.equal(files.open, 2);
    writeFileSync(a, '250\n'); // the same file, new content (what the kernel does at every read)
    assert.equal(files.readText(a), '250\n');
    files.sweep();
    assert.equal(files.open, 2, 'both read since the last sweep');
    files.readText(a);
    files.sweep();
    assert.equal(files.open, 1, 'b was not read in this collection: closed');
    assert.throws(() => files.readText(join(dir, 'gone')), /ENOENT/);
    assert.equal(files.open, 1);
  } finally {
    files.closeAll();
    assert.equal(files.open, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
