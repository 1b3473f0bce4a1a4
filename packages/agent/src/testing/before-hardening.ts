/** Business containers as agents made them before they were hardened: for tests that an upgrade recreates none. */
import { createHash } from 'node:crypto';
import { Labels } from '@wharf/types';
import { canonicalJson, INFRA_REF } from '../containers.js';
import type { ContainerConfig } from '../docker/engine.js';

/**
 * The config without the hardening, labelled with the spec hash of then (the v2 formula
 * as it was). `infraId`: the config is a created one, joined to that infra container.
 */
export function beforeHardening(config: ContainerConfig, infraId?: string): { config: ContainerConfig; hash: string } {
  const { capAdd: _add, capDrop: _drop, securityOpt: _opt, ...rest } = config;
  const labels = { ...rest.labels };
  delete labels[Labels.generation];
  delete labels[Labels.specHash];
  const { nanoCpus: _cpu, memory: _memory, memorySwap: _swap, ...hashed } = rest;
  const asDesired = (mode: string): string => (infraId ? mode.replace(infraId, INFRA_REF) : mode);
  const input = { ...hashed, ipcMode: asDesired(rest.ipcMode), networkMode: asDesired(rest.networkMode), privileged: false, labels };
  const hash = createHash('sha256').update(`v2\n${canonicalJson(input)}`).digest('hex');
  return { config: { ...rest, privileged: false, labels: { ...rest.labels, [Labels.specHash]: hash } }, hash };
}
