/**
 * Users' SSH public keys for the SSH gateway (`ssh -p 2222 APPKEY/ID@server`): users
 * manage their own under /v1/me/ssh-keys, platform admins anyone's under
 * /v1/users/{name}/ssh-keys. Only public keys are taken; nothing here logs a key.
 */
import { Type } from '@sinclair/typebox';
import { NAME_PATTERN, SshKey, SshKeyCreate, USER_PATTERN, WharfError } from '@wharf/types';
import { principal } from '../auth/hook.js';
import { getUser } from '../state/identity.js';
import { addSshKey, deleteSshKey, listSshKeys } from '../state/ssh-keys.js';
import type { App, RouteContext } from './context.js';
import { userOf } from './identity.js';
import { errors } from './schemas.js';

const KeyName = Type.String({ pattern: NAME_PATTERN, description: 'The key\'s name' });
const UserParams = Type.Object({ name: Type.String({ pattern: USER_PATTERN }) });

export function sshKeyRoutes(app: App, { store }: RouteContext): void {
  app.post('/v1/me/ssh-keys', {
    config: { access: 'user' },
    schema: {
      tags: ['identity'],
      summary: 'Register an SSH public key of the caller for the SSH gateway',
      description: 'One line in OpenSSH format (the .pub file). Private keys, certificates, DSA and RSA under 2048 bits are refused (400); a name the caller uses already, or a key registered by anyone, is 409 SSH_KEY_EXISTS. The key acts with all of the user\'s roles, so a token limited to a tenant cannot add one (403).',
      body: SshKeyCreate,
      response: { 201: SshKey, ...errors(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const who = principal(req);
    const user = userOf(who, 'adding an SSH key');
    if (who.token.record.tenant !== undefined || who.token.record.tenantRole !== undefined) {
      throw new WharfError('FORBIDDEN', 'an SSH key acts with all of your roles; add it with a token that is not limited to a tenant (your login session)');
    }
    return reply.status(201).send(await addSshKey(store, user, req.body.name, req.body.publicKey));
  });

  app.get('/v1/me/ssh-keys', {
    config: { access: 'user' },
    schema: { tags: ['identity'], summary: "The caller's SSH public keys (name, type, SHA256 fingerprint, comment, added)", response: { 200: Type.Array(SshKey), ...errors(400, 401) } },
  }, async (req) => listSshKeys(store, userOf(principal(req), 'listing SSH keys')));

  app.delete('/v1/me/ssh-keys/:key', {
    config: { access: 'user' },
    schema: { tags: ['identity'], summary: 'Remove one of the caller\'s SSH keys; it stops working at once', params: Type.Object({ key: KeyName }), response: { 200: SshKey, ...errors(400, 401, 404) } },
  }, async (req) => deleteSshKey(store, userOf(principal(req), 'removing an SSH key'), req.params.key));

  app.get('/v1/users/:name/ssh-keys', {
    schema: { tags: ['identity'], summary: "A user's SSH public keys (platform admins)", params: UserParams, response: { 200: Type.Array(SshKey), ...errors(401, 403, 404) } },
  }, async (req) => {
    if (!(await getUser(store, req.params.name))) throw new WharfError('USER_NOT_FOUND', `no user "${req.params.name}"`);
    return listSshKeys(store, req.params.name);
  });

  app.delete('/v1/users/:name/ssh-keys/:key', {
    schema: { tags: ['identity'], summary: "Remove a user's SSH key (platform admins)", params: Type.Object({ ...UserParams.properties, key: KeyName }), response: { 200: SshKey, ...errors(401, 403, 404) } },
  }, async (req) => deleteSshKey(store, req.params.name, req.params.key));
}
