/**
 * Gray (canary) image updates of an app: start one, follow it, pause, resume or
 * roll it back. The routes only write the rollout; controllers/rollout.ts does
 * the batches.
 */
import { Type } from '@sinclair/typebox';
import { Rollout, RolloutRequest } from '@wharf/types';
import { changeRollout, createRollout, getRollout, listRollouts, type RolloutAction } from '../state/rollouts.js';
import { rolloutDefaults } from '../state/apps.js';
import type { App, ApiContext } from './context.js';
import { AppParams } from './apps.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

const NumberParams = Type.Composite([AppParams, Type.Object({ number: Type.Integer({ minimum: 1, description: 'The rollout number (1, 2, 3 … per app)' }) })]);

const ACTIONS: Record<RolloutAction, { summary: string; description: string }> = {
  pause: {
    summary: 'Pause the current rollout',
    description: 'No further batch starts; a batch under way still finishes. 409 CONFLICT unless the rollout is running.',
  },
  resume: {
    summary: 'Resume a paused rollout',
    description: '409 CONFLICT unless the rollout is paused.',
  },
  rollback: {
    summary: 'Roll back the current rollout',
    description:
      'Every set the rollout changed gets its previous image back, in batches, each waiting for readiness. ' +
      'Allowed while running or paused, after a failure, and after success (undo). Sets whose image someone else changed are left alone.',
  },
};

export function rolloutRoutes(app: App, { store }: ApiContext): void {
  app.post('/v1/apps/:appkey/rollouts', {
    config: { access: 'tenant' },
    schema: {
      tags: ['rollouts'],
      summary: 'Start a gray image update of one container of the app\'s sets',
      description:
        'The container (by options.name) of every set of the app that has it, or of the one `set`, gets the new image, batch by batch; ' +
        'each batch must be ready before the next starts. Only that container is recreated; the infra container, the IP, the volume and the other containers stay. ' +
        '404 APP_NOT_FOUND (no sets), SET_NOT_FOUND, CONTAINER_NOT_FOUND (no set has the container); 409 ROLLOUT_IN_PROGRESS while another rollout of the app is running, paused or rolling back.',
      params: AppParams,
      querystring: TenantQuery,
      body: RolloutRequest,
      response: { 201: Rollout, ...errors(400, 401, 404, 409) },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req.query);
    // An app's update policy gives the batch and maxUnavailable the request leaves out.
    const defaults = await rolloutDefaults(store, tenant, req.params.appkey);
    const rollout = await createRollout(store, tenant, req.params.appkey, { ...defaults, ...req.body });
    return reply.status(201).send(rollout);
  });

  app.get('/v1/apps/:appkey/rollouts', {
    config: { access: 'tenant' },
    schema: { tags: ['rollouts'], summary: 'The app\'s rollouts, newest first', params: AppParams, querystring: TenantQuery, response: { 200: Type.Array(Rollout), ...errors(401) } },
  }, async (req) => (await listRollouts(store, tenantOf(req.query), req.params.appkey)).map((kv) => kv.value).reverse());

  app.get('/v1/apps/:appkey/rollouts/current', {
    config: { access: 'tenant' },
    schema: { tags: ['rollouts'], summary: 'The app\'s newest rollout', params: AppParams, querystring: TenantQuery, response: { 200: Rollout, ...errors(401, 404) } },
  }, async (req) => (await getRollout(store, tenantOf(req.query), req.params.appkey, 'current')).value);

  app.get('/v1/apps/:appkey/rollouts/:number', {
    config: { access: 'tenant' },
    schema: { tags: ['rollouts'], summary: 'One rollout of the app', params: NumberParams, querystring: TenantQuery, response: { 200: Rollout, ...errors(400, 401, 404) } },
  }, async (req) => (await getRollout(store, tenantOf(req.query), req.params.appkey, req.params.number)).value);

  for (const [action, doc] of Object.entries(ACTIONS) as [RolloutAction, (typeof ACTIONS)[RolloutAction]][]) {
    app.post(`/v1/apps/:appkey/rollouts/current/${action}`, {
      config: { access: 'tenant' },
      schema: { tags: ['rollouts'], ...doc, params: AppParams, querystring: TenantQuery, response: { 200: Rollout, ...errors(401, 404, 409) } },
    }, async (req) => {
      const { appkey } = req.params as { appkey: string };
      return changeRollout(store, tenantOf(req.query as { tenant?: string }), appkey, action);
    });
  }
}
