export { startServer, openStore, type ServerConfig, type RunningServer } from './server.js';
export { buildApp } from './app.js';
