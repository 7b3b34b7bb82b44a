import { createHash } from 'node:crypto';
import { SERVICE_ID } from './winsw.js';

/** Fixed for the product's whole life: every version finds and replaces the one before by it. */
export const UPGRADE_CODE = '6F1C2B7E-3D4A-4E59-8B0C-5A9D7E2F4C61';

/** Public properties an administrator may give to msiexec; none has a default. */
export const PUBLIC_PROPERTIES = ['SERVER', 'TOKEN', 'FINGERPRINT', 'UNINSTALLCODE', 'FORCEREMOVE'] as const;

/** Properties the MSI log must not show: the secrets and the actions that carry them. */
export const HIDDEN_PROPERTIES = ['TOKEN', 'UNINSTALLCODE', 'PortcullisWriteToken', 'PortcullisWriteCode'] as const;

/**
 * Windows Installer version numbers are major.minor.build with major and minor below 256 and
 * build below 65536 (the fourth field is ignored when comparing, so it is refused here).
 */
export function checkMsiVersion(version: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,5})$/.exec(version);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255 || Number(m[3]) > 65535) {
    throw new Error(`"${version}" is not a Windows Installer product version (major.minor.build, at most 255.255.65535)`);
  }
  return version;
}

/**
 * The ProductCode of a version: a name-based UUID (version 5, RFC 4122) of the version in the
 * UpgradeCode's namespace. One per version, and the same on every build of it, so that two
 * builds of one version are the same product to Windows Installer.
 */
export function productCode(version: string): string {
  checkMsiVersion(version);
  const namespace = Buffer.from(UPGRADE_CODE.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespace).update(`portcullis-agent ${version}`, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** CustomAction.Type bits (Windows Installer SDK, "Custom Action Types"). */
const CA = {
  jscriptInBinary: 5,
  exeInProperty: 50,
  setProperty: 51,
  rollback: 0x100,
  commit: 0x200,
  inScript: 0x400,
  noImpersonate: 0x800,
  script64: 0x1000,
  hideTarget: 0x2000,
} as const;

const deferred = CA.inScript | CA.noImpersonate;
const script = CA.jscriptInBinary | CA.script64;

/**
 * The type every custom action must end with. wixl 0.101 writes the base type and the deferred,
 * rollback, commit and NoImpersonate bits, but knows neither the 64-bit script bit (without it a
 * script runs in the 32-bit host) nor HideTarget, which keeps a secret's CustomActionData out of
 * the log even if MsiHiddenProperties were lost.
 */
export const CUSTOM_ACTION_TYPES: Readonly<Record<string, number>> = {
  PortcullisSetCmd: CA.setProperty,
  PortcullisValidate: script,
  PortcullisSecureData: CA.exeInProperty | deferred,
  SetPortcullisEnrollFailure: CA.setProperty,
  PortcullisEnrollFailure: script | deferred | CA.rollback,
  SetPortcullisWriteToken: CA.setProperty | CA.hideTarget,
  PortcullisWriteToken: script | deferred | CA.hideTarget,
  PortcullisEnroll: CA.exeInProperty | deferred,
  SetPortcullisEnrollDone: CA.setProperty,
  PortcullisEnrollDone: script | deferred,
  SetPortcullisCheckFailure: CA.setProperty,
  PortcullisCheckFailure: script | deferred | CA.rollback,
  SetPortcullisWriteCode: CA.setProperty | CA.hideTarget,
  PortcullisWriteCode: script | deferred | CA.hideTarget,
  PortcullisUninstallCheck: CA.exeInProperty | deferred,
  PortcullisUninstallCheckNoCode: CA.exeInProperty | deferred,
  SetPortcullisCheckDone: CA.setProperty,
  PortcullisCheckDone: script | deferred,
  SetPortcullisRemoveData: CA.setProperty,
  PortcullisRemoveData: script | deferred | CA.commit,
};

/** msidbComponentAttributes64bit: the components belong to a 64-bit package. */
const COMPONENT_64BIT = 256;

/** The service's restarts after a failure: 10 s, 30 s, 60 s, the count reset after a day. */
export const FAILURE_ACTIONS = { resetSeconds: 86_400, delaysMs: [10_000, 30_000, 60_000] } as const;

/**
 * What msibuild adds to wixl's database, as SQL for `msibuild -q`. Besides the custom actions'
 * types: SecureCustomProperties, so that the public properties reach the elevated part of the
 * installation (wixl lists only its upgrade properties there); 64-bit components (wixl 0.101
 * ignores -a x64 for them); the restarts after a failure (MsiServiceConfigFailureActions, run
 * by the standard action MsiConfigureServices between InstallServices and StartServices).
 */
export function postProcessQueries(secureFromWixl: readonly string[] | null): string[] {
  const wixl = secureFromWixl ?? [];
  const secure = [...wixl, ...PUBLIC_PROPERTIES.filter((p) => !wixl.includes(p))].join(';');
  const restarts = FAILURE_ACTIONS.delaysMs.map(() => '1').join('[~]');
  const delays = FAILURE_ACTIONS.delaysMs.join('[~]');
  return [
    ...Object.entries(CUSTOM_ACTION_TYPES).map(([action, type]) => `UPDATE \`CustomAction\` SET \`Type\` = ${type} WHERE \`Action\` = '${action}'`),
    // wixl writes the row only when the package has an Upgrade table.
    secureFromWixl === null
      ? `INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('SecureCustomProperties', '${secure}')`
      : `UPDATE \`Property\` SET \`Value\` = '${secure}' WHERE \`Property\` = 'SecureCustomProperties'`,
    `UPDATE \`Component\` SET \`Attributes\` = ${COMPONENT_64BIT}`,
    'CREATE TABLE `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL, ' +
      '`Event` SHORT NOT NULL, `ResetPeriod` LONG, `RebootMessage` CHAR(255) LOCALIZABLE, `Command` CHAR(255), `Actions` CHAR(255), ' +
      '`DelayActions` CHAR(255), `Component_` CHAR(72) NOT NULL PRIMARY KEY `MsiServiceConfigFailureActions`)',
    // Event 1 + 4: on install and on reinstall (repair).
    'INSERT INTO `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions`, `Name`, `Event`, `ResetPeriod`, `Actions`, `DelayActions`, `Component_`) ' +
      `VALUES ('PortcullisAgentRestarts', '${SERVICE_ID}', 5, ${FAILURE_ACTIONS.resetSeconds}, '${restarts}', '${delays}', 'Service')`,
    "INSERT INTO `InstallExecuteSequence` (`Action`, `Condition`, `Sequence`) VALUES ('MsiConfigureServices', 'VersionNT >= 600', 5850)",
  ];
}

/** One table as `msiinfo export` prints it. */
export interface MsiTable {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string>>[];
}

/**
 * Parses a table exported by `msiinfo export FILE TABLE` (the IDT format): column names, column
 * types, the table's name and its key columns, then one row per line, tab-separated. Sample:
 *   Property\tValue
 *   s72\tl0
 *   Property\tProperty
 *   ALLUSERS\t1
 * Windows Installer's escapes for control characters inside a value are kept as they are.
 */
export function parseIdt(text: string): MsiTable {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const [names, types, header, ...rows] = lines;
  if (names === undefined || types === undefined || header === undefined) throw new Error(`not an exported MSI table: ${JSON.stringify(text.slice(0, 120))}`);
  const columns = names.split('\t');
  if (types.split('\t').length !== columns.length) throw new Error(`the table's ${columns.length} columns have ${types.split('\t').length} types`);
  const name = header.split('\t')[0] ?? '';
  return {
    name,
    columns,
    rows: rows.map((line, i) => {
      const values = line.split('\t');
      if (values.length !== columns.length) throw new Error(`${name}, row ${i + 1}: ${values.length} values for ${columns.length} columns`);
      return Object.fromEntries(columns.map((c, j) => [c, values[j] ?? '']));
    }),
  };
}
