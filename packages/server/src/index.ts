export { startServer, openStore, type ServerConfig, type RunningServer } from './server.js';
export { buildApp } from './app.js';
// The placement controller and the store layout, for benchmarks and tools that drive them in-process.
export { PlacementController } from './controllers/placement.js';
export { Keys } from './state/keys.js';
