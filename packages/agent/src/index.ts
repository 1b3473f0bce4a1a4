/** @wharf/agent: the per-host agent. `wharf-agent` (main.ts) is a thin CLI over startAgent. */
export { startAgent, type RunningAgent } from './agent.js';
export { type AgentConfig, DEFAULTS, USAGE, parseCli, ConfigError } from './config.js';
export { containerName, volumePath, INFRA_COMMAND } from './containers.js';
export type { Engine, ContainerConfig, ObservedContainer, EngineEvent } from './docker/engine.js';
export { DockerodeEngine } from './docker/dockerode-engine.js';
