export * from './errors.js';
export * from './quantity.js';
export * from './labels.js';
export * from './set-spec.js';
export * from './resolve.js';
export * from './objects.js';
export const WHARF_VERSION = '0.1.0';
