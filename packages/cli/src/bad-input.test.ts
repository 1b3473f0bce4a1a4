/**
 * Bad files and bad flags, through the built CLI (a child process) and a real
 * wharf-server: whatever is wrong, stderr's first line names the problem (a
 * usage error may add only the "--help" hint), nothing is printed on stdout,
 * and the exit code is not 0 (1 for a refused input, 2 for a usage error).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRealServer, type RealServer } from './testing/real-server.js';
import { runCli } from './testing/run-cli.js';

const USAGE_HINT = '(add --help for usage)';

describe('wharf on bad files and flags', () => {
  let server: RealServer;
  let dir: string;
  const file = (name: string) => join(dir, name);

  before(async () => {
    server = await startRealServer();
    dir = mkdtempSync(join(tmpdir(), 'wharf-cli-bad-input-'));
    writeFileSync(file('not-yaml.yaml'), 'appkey: web\ncontainers: [\n');
    writeFileSync(file('list.yaml'), '- 1\n- 2\n');
    writeFileSync(file('types.yaml'), 'appkey: web\nid: 1\ncontainers: lots\n');
    writeFileSync(file('cpu.yaml'), 'appkey: web\nid: 1\ncontainers:\n  - {index: 0, image: busybox, options: {name: main, cpu: -3}}\n');
    writeFileSync(file('dup.yaml'), 'appkey: web\nid: 1\ncontainers:\n  - {index: 0, image: busybox, options: {name: a}}\n  - {index: 0, image: busybox, options: {name: b}}\n');
    writeFileSync(file('app.yaml'), 'appkey: shop\nreplicas: many\ntemplate: {containers: [{index: 0, image: busybox, options: {name: main}}]}\n');
    writeFileSync(file('binary.yaml'), Buffer.from([0x00, 0xff, 0xfe, 0x01]));
  });

  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs `args`; asserts the exit code, an empty stdout and the first line of stderr naming the
   * problem. After it only the usage hint (exit 2) or, for a refused spec, one indented line per
   * field error may follow; `field`, when given, must be among them.
   */
  async function refused(args: string[], code: 1 | 2, problem: RegExp, field?: RegExp): Promise<void> {
    const r = await runCli(args, { server: server.url, home: dir, env: { WHARF_TOKEN: server.admin } });
    const what = `wharf ${args.join(' ')}: ${JSON.stringify(r)}`;
    assert.equal(r.code, code, what);
    assert.equal(r.stdout, '', what);
    const [first, ...rest] = r.stderr.trimEnd().split('\n');
    assert.match(first ?? '', problem, what);
    if (code === 2) assert.deepEqual(rest, [USAGE_HINT], what);
    else for (const line of rest) assert.match(line, /^ {2}\S+: \S/, what);
    if (field) assert.ok(rest.some((line) => field.test(line)), what);
  }

  it('bad files: missing, a directory, not YAML, binary, a list instead of an object', async () => {
    await refused(['apply', '-f', file('nope.yaml')], 1, /^wharf: cannot read \S+nope\.yaml: no such file$/);
    await refused(['apply', '-f', dir], 1, /^wharf: cannot read \S+: it is a directory$/);
    await refused(['apply', '-f', file('not-yaml.yaml')], 1, /^wharf: cannot parse \S+not-yaml\.yaml: .+line \d+/);
    await refused(['apply', '-f', file('binary.yaml')], 1, /^wharf: \S*binary\.yaml/);
    await refused(['apply', '-f', file('list.yaml')], 1, /^wharf: \S+list\.yaml holds a list; expected a set spec/);
    await refused(['app', 'create', '-f', file('nope.yaml')], 1, /^wharf: cannot read \S+nope\.yaml: no such file$/);
    await refused(['policy', 'apply', '-f', file('not-yaml.yaml')], 1, /^wharf: cannot parse \S+not-yaml\.yaml/);
  });

  it('files of the wrong types: the server refuses them, a line per field names it', async () => {
    const invalid = (name: string) => new RegExp(`^wharf: invalid set spec in \\S+${name}\\.yaml \\(\\d+ errors?\\):$`);
    await refused(['apply', '-f', file('types.yaml')], 1, invalid('types'), /^ {2}containers: must be a list$/);
    await refused(['apply', '-f', file('cpu.yaml')], 1, invalid('cpu'), /^ {2}containers\[0\]\.options\.cpu: /);
    await refused(['apply', '-f', file('dup.yaml')], 1, invalid('dup'), /^ {2}containers\[1\]\.index: /);
    await refused(['app', 'create', '-f', file('app.yaml')], 1, /^wharf: invalid app spec in \S+app\.yaml \(1 error\):$/, /^ {2}replicas: must be a whole number$/);
  });

  it('bad flags: unknown, missing, not a number, negative, not a size', async () => {
    await refused(['apply', '-f', file('types.yaml'), '--bogus'], 2, /^error: unknown option '--bogus'$/);
    await refused(['apply'], 2, /^error: required option '-f, --filename <file>' not specified$/);
    await refused(['scale', 'web', '--replicas', 'abc'], 2, /^error: option '--replicas <n>' argument 'abc' is invalid\. expected a whole number/);
    await refused(['scale', 'web', '--replicas', '-2'], 2, /argument '-2' is invalid/);
    await refused(['scale', 'web', '--replicas', '1e9'], 2, /argument '1e9' is invalid/);
    await refused(['scale', 'web', '--replicas', '3', '--timeout', 'forever'], 2, /^error: option '--timeout <duration>' argument 'forever' is invalid\. not a duration/);
    await refused(['resize', 'web/1', '--cpu', '-1'], 2, /^error: option '--cpu <cores>' argument '-1' is invalid\. expected CPU cores/);
    await refused(['resize', 'web/1', '--memory', '12zz'], 2, /^error: option '--memory <size>' argument '12zz' is invalid\. expected a size/);
    await refused(['resize', 'web/1'], 2, /^error: nothing to resize/);
    await refused(['resize', 'web', '--cpu', '1'], 2, /^error: not a set reference; expected APPKEY\/ID/);
    // Traversal in a name is only a name: the server finds no such set.
    await refused(['resize', '../../etc', '--cpu', '1'], 1, /^wharf: set \.\.\/\.\.\/etc not found$/);
    await refused(['app', 'create', 'web', '--image', 'busybox', '--replicas', 'lots'], 2, /argument 'lots' is invalid/);
    await refused(['app', 'create', 'web', '--image', 'busybox', '--memory', 'huge'], 2, /^error: option '--memory <size>' argument 'huge' is invalid/);
    await refused(['network', 'create', 'n1', '--subnet', '10.0.0.0/99', '--gateway', '10.0.0.1'], 1, /^wharf: invalid network n1/);
  });
});
