export * from './inventory-model.js';
export { collectInventory, DEFAULT_COLLECTOR_TIMEOUT_MS, type CollectOptions, type InventoryLogger } from './inventory-collector.js';
export {
  changedSections,
  fitInventory,
  inventoryDelta,
  INVENTORY_MAX_FRAME_BYTES,
  type InventoryChanges,
  type InventoryUpdate,
} from './inventory-delta.js';
export {
  cleanText,
  toHardwareSection,
  toMailSection,
  toNetworkSection,
  toOsSection,
  toPortsSection,
  toSoftwareSection,
  toUsbSection,
  toUsersSection,
} from './inventory-mappers.js';
export {
  DEFAULT_INVENTORY_INTERVAL_MS,
  InventoryReporter,
  type InventoryReport,
  type InventoryReporterOptions,
  type TimerHandle,
} from './inventory-reporter.js';
export {
  systemInformationSource,
  type InventorySource,
  type MailAccountSource,
  type SiBios,
  type SiCpu,
  type SiMem,
  type SiNetworkConnection,
  type SiNetworkInterface,
  type SiOs,
  type SiSystem,
  type SiUsb,
  type SiUser,
  type SystemInformation,
} from './inventory-source.js';
export {
  DEFAULT_LISTER_TIMEOUT_MS,
  DPKG_QUERY_ARGS,
  execFileRunner,
  PackageManagerSoftwareLister,
  parsePackageList,
  RPM_QUERY_ARGS,
  type CommandRunner,
  type PackageManagerListerOptions,
  type RunResult,
  type SoftwareList,
  type SoftwareLister,
} from './software-lister.js';
