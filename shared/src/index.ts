export * from './errors.js';
export * from './rules/index.js';
export * from './device/device.js';
