export * from './errors.js';
export * from './rules/index.js';
export * from './device/device.js';
export * from './device/classify.js';
export * from './device/usb-classes.js';
export * from './policy/index.js';
export * from './protocol/index.js';
export * from './agent/uninstall-code.js';
