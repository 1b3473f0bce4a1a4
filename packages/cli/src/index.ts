/** @wharf/cli: the `wharf` command. The pieces are exported for tests and for embedding. */
export { run, createProgram, USAGE_EXIT_CODE } from './cli.js';
export { createContext, processIo, type Context, type Io } from './context.js';
export { resolveConfig, loadConfigFile, configPath, normalizeServer, DEFAULT_SERVER, type ResolvedConfig, type ConfigSource } from './config.js';
export { CliError, describeError } from './errors.js';
export { parseSetRef, formatRef, type SetRef } from './ref.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseSpecs } from './input.js';
export { waitForSet, assess, systemClock, DEFAULT_TIMEOUT_MS, type Clock, type WaitGoal, type WaitOptions } from './wait.js';
export { lineProgress, spinnerProgress, type Progress } from './progress.js';
export { renderTable } from './format/table.js';
export { humanDuration, age } from './format/age.js';
export { renderSets, readiness } from './format/sets.js';
export { renderHosts } from './format/hosts.js';
export { describeSet } from './format/describe.js';
