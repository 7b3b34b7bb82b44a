/**
 * The real package, built once from the real Windows agent, read back with msitools the way an
 * administrator's tools read it: `msiinfo tables/export/suminfo`, `msidump` for the tables and the
 * embedded script, `msiextract` for the files. What runs on Windows is only what these tables say.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { buildMsi, exportTable, INSTALLED_FILES, msiFileName, WINDOWS_ASSETS_DIR } from '../src/msi/build-msi.js';
import { CUSTOM_ACTION_TYPES, HIDDEN_PROPERTIES, parseIdt, productCode, PUBLIC_PROPERTIES, UPGRADE_CODE, type MsiTable } from '../src/msi/msi-tables.js';
import { cmdCleanEnv, SERVICE_ID, WINSW_SHA256, winswConfig } from '../src/msi/winsw.js';
import { OUT_DIR } from '../src/sea/layout.js';
import { buildWindowsBinary, sha256File, type SeaBinary } from '../src/sea/sea-binary.js';

const execFileAsync = promisify(execFile);

describe('msi: the built package, read with msitools', function () {
  this.timeout(300_000);
  let exe: SeaBinary;
  let msi: string;
  let dump: string;
  const tables = new Map<string, MsiTable>();
  const table = async (name: string): Promise<MsiTable> => {
    const known = tables.get(name) ?? (await exportTable(msi, name));
    tables.set(name, known);
    return known;
  };
  const rows = async (name: string, key: string): Promise<Map<string, Readonly<Record<string, string>>>> => new Map((await table(name)).rows.map((r) => [r[key] ?? '', r]));

  before(async () => {
    exe = await buildWindowsBinary({ log: (line) => console.log(`      ${line}`) });
    const started = Date.now();
    msi = await buildMsi({ exe: exe.path, outDir: OUT_DIR, version: VERSION, log: (line) => console.log(`      ${line}`) });
    console.log(`      ${msi}: ${((await readFile(msi)).length / 1e6).toFixed(1)} MB, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    dump = await mkdtemp(join(tmpdir(), 'portcullis-msidump-'));
    // From inside dump: msidump writes the Binary table's data to ./Binary/ whatever --directory says.
    await execFileAsync('msidump', ['--tables', '--streams', '--directory', dump, msi], { cwd: dump, maxBuffer: 16 * 1024 * 1024 });
  });
  after(async () => rm(dump, { recursive: true, force: true }));

  it('is named portcullis-agent-<version>-x64.msi and is a 64-bit, per-machine package', async () => {
    expect(msi).to.equal(join(OUT_DIR, msiFileName(VERSION)));
    const { stdout } = await execFileAsync('msiinfo', ['suminfo', msi]);
    expect(stdout).to.match(/^Template: x64;1033$/m);
    expect(stdout).to.match(/^Version: 500 /m);
    expect((await rows('Property', 'Property')).get('ALLUSERS')?.Value).to.equal('1');
  });

  it('has every table the installation relies on', async () => {
    const { stdout } = await execFileAsync('msiinfo', ['tables', msi]);
    const names = stdout.split('\n').map((l) => l.trim());
    for (const name of ['File', 'Component', 'Directory', 'CreateFolder', 'ServiceInstall', 'ServiceControl', 'MsiServiceConfigFailureActions', 'CustomAction', 'Binary', 'InstallExecuteSequence', 'Property', 'Upgrade', 'LaunchCondition']) {
      expect(names, name).to.include(name);
    }
  });

  it('installs both exes, the XML, the .NET config and the license into Program Files\\Portcullis', async () => {
    const files = await rows('File', 'FileName');
    expect([...files.keys()].sort()).to.deep.equal([...INSTALLED_FILES].sort());
    expect(files.get('portcullis-agent.exe')?.FileSize).to.equal(String(exe.bytes));
    const components = await rows('Component', 'Component');
    for (const file of files.values()) {
      const component = components.get(file.Component_ ?? '');
      expect(component?.Directory_, file.FileName).to.equal('INSTALLDIR');
      // msidbComponentAttributes64bit: a 64-bit package's components.
      expect(component?.Attributes, file.FileName).to.equal('256');
    }
    expect(components.get('Service')?.KeyPath, 'the service binary is its component key').to.equal('ServiceExe');
  });

  it('puts Program Files\\Portcullis and ProgramData\\Portcullis\\{agent,logs} where Windows has them', async () => {
    const dirs = await rows('Directory', 'Directory');
    const rowsWanted: [string, string, string][] = [
      ['INSTALLDIR', 'ProgramFiles64Folder', 'Portcullis'],
      ['DATADIR', 'CommonAppDataFolder', 'Portcullis'],
      ['STATEDIR', 'DATADIR', 'agent'],
      ['LOGDIR', 'DATADIR', 'logs'],
      ['ProgramFiles64Folder', 'TARGETDIR', '.'],
      ['CommonAppDataFolder', 'TARGETDIR', '.'],
    ];
    for (const [dir, parent, name] of rowsWanted) expect([dirs.get(dir)?.Directory_Parent, dirs.get(dir)?.DefaultDir], dir).to.deep.equal([parent, name]);
    expect((await table('CreateFolder')).rows.map((r) => r.Directory_).sort()).to.deep.equal(['DATADIR', 'LOGDIR', 'STATEDIR']);
  });

  it('registers PortcullisAgent: own process, automatic, LocalSystem, started on install, stopped and deleted on removal', async () => {
    const service = (await rows('ServiceInstall', 'ServiceInstall')).get(SERVICE_ID);
    expect(service).to.include({ Name: SERVICE_ID, ServiceType: '16', StartType: '2', ErrorControl: '1', StartName: 'LocalSystem', Component_: 'Service', Arguments: '' });
    const control = (await rows('ServiceControl', 'ServiceControl')).get(SERVICE_ID);
    // 1 start on install + 2 stop on install + 32 stop on removal + 128 delete on removal.
    expect(control).to.include({ Name: SERVICE_ID, Event: '163', Wait: '1', Component_: 'Service' });
    const restarts = (await table('MsiServiceConfigFailureActions')).rows;
    expect(restarts).to.deep.equal([
      { MsiServiceConfigFailureActions: 'PortcullisAgentRestarts', Name: SERVICE_ID, Event: '5', ResetPeriod: '86400', RebootMessage: '', Command: '', Actions: '1[~]1[~]1', DelayActions: '10000[~]30000[~]60000', Component_: 'Service' },
    ]);
  });

  it('has the version, a ProductCode of its own, the fixed UpgradeCode and the public properties, all empty by default', async () => {
    const props = await rows('Property', 'Property');
    expect(props.get('ProductVersion')?.Value).to.equal(VERSION);
    expect(props.get('ProductCode')?.Value).to.equal(`{${productCode(VERSION)}}`);
    expect(props.get('UpgradeCode')?.Value).to.equal(`{${UPGRADE_CODE}}`);
    expect(props.get('Manufacturer')?.Value).to.equal('Portcullis');
    // Windows Installer keeps no empty property: no row means empty.
    for (const name of PUBLIC_PROPERTIES) expect(props.has(name), name).to.equal(false);
    expect((props.get('SecureCustomProperties')?.Value ?? '').split(';')).to.include.members([...PUBLIC_PROPERTIES]);
    expect((props.get('MsiHiddenProperties')?.Value ?? '').split(';')).to.have.members([...HIDDEN_PROPERTIES]);
  });

  it('upgrades every older version and refuses a downgrade', async () => {
    const upgrades = (await table('Upgrade')).rows.map((r) => [r.UpgradeCode, r.VersionMin, r.VersionMax, r.Attributes, r.ActionProperty]);
    expect(upgrades).to.have.deep.members([
      [`{${UPGRADE_CODE}}`, '', VERSION, '1', 'WIX_UPGRADE_DETECTED'],
      [`{${UPGRADE_CODE}}`, VERSION, '', '2', 'WIX_DOWNGRADE_DETECTED'],
    ]);
    const conditions = (await table('LaunchCondition')).rows.map((r) => r.Condition);
    expect(conditions).to.include.members(['NOT WIX_DOWNGRADE_DETECTED', 'Installed OR VersionNT64 >= 603']);
  });

  it('gives every custom action the type msi-tables.ts wants', async () => {
    const actions = await rows('CustomAction', 'Action');
    expect(Object.fromEntries([...actions].map(([a, r]) => [a, Number(r.Type)]))).to.deep.equal(CUSTOM_ACTION_TYPES);
  });

  it('enrolls with the token in a file and the Node variables cleared, never the token on a command line', async () => {
    const actions = await rows('CustomAction', 'Action');
    const enroll = actions.get('PortcullisEnroll')?.Target ?? '';
    expect(enroll.startsWith(`/d /v:off /s /c "${cmdCleanEnv()} if exist "[STATEDIR]identity.json" (`)).to.equal(true);
    expect(enroll).to.include('"[#AgentExe]" enroll --server "[SERVER]" --fingerprint "[FINGERPRINT]" --token-file "[DATADIR]enroll-token.tmp" --state "[DATADIR]agent"');
    expect(actions.get('SetPortcullisWriteToken')).to.include({ Source: 'PortcullisWriteToken', Target: '[DATADIR]enroll-token.tmp|[TOKEN]' });
    expect(actions.get('PortcullisSetCmd')).to.include({ Source: 'PORTCULLISCMD', Target: '[System64Folder]cmd.exe' });
    // Only the actions that write a secret into its file see it.
    const withSecret = [...actions.values()].filter((r) => /\[(TOKEN|UNINSTALLCODE)\]/.test(r.Target ?? '')).map((r) => r.Action);
    expect(withSecret.sort()).to.deep.equal(['SetPortcullisWriteCode', 'SetPortcullisWriteToken']);
  });

  it('checks the uninstall code, given in a file, and lets FORCEREMOVE through only as the variable the agent reads', async () => {
    const actions = await rows('CustomAction', 'Action');
    for (const [name, codeFile] of [
      ['PortcullisUninstallCheck', ' --code-file "[DATADIR]uninstall-code.tmp"'],
      ['PortcullisUninstallCheckNoCode', ''],
    ] as const) {
      expect(actions.get(name)?.Target, name).to.equal(
        `/d /v:off /s /c "${cmdCleanEnv()} set PORTCULLIS_FORCE_REMOVE=[FORCEREMOVE]& "[#AgentExe]" uninstall --check --state "[DATADIR]agent"${codeFile} > "[DATADIR]uninstall-output.log" 2>&1"`,
      );
    }
  });

  it('locks ProgramData\\Portcullis to SYSTEM and Administrators, by SID, owner and children included', async () => {
    const secure = (await rows('CustomAction', 'Action')).get('PortcullisSecureData')?.Target ?? '';
    expect(secure).to.include('"[System64Folder]icacls.exe" "[DATADIR]." /setowner *S-1-5-18 /T /C /Q');
    expect(secure).to.include('"[System64Folder]icacls.exe" "[DATADIR]." /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F /Q');
    expect(secure).to.include('"[System64Folder]icacls.exe" "[DATADIR]*" /reset /T /C /Q');
  });

  it('runs the actions in an order that works: lock, then enroll, then start; check before anything is removed', async () => {
    const sequence = await rows('InstallExecuteSequence', 'Action');
    const at = (action: string): number => Number(sequence.get(action)?.Sequence ?? NaN);
    const order: [string, string][] = [
      ['PortcullisValidate', 'RemoveExistingProducts'],
      ['RemoveExistingProducts', 'InstallInitialize'],
      ['InstallInitialize', 'PortcullisCheckFailure'],
      ['PortcullisCheckFailure', 'PortcullisWriteCode'],
      ['PortcullisWriteCode', 'PortcullisUninstallCheck'],
      ['PortcullisUninstallCheckNoCode', 'PortcullisCheckDone'],
      ['PortcullisCheckDone', 'StopServices'],
      ['CreateFolders', 'PortcullisSecureData'],
      ['InstallFiles', 'PortcullisSecureData'],
      ['PortcullisSecureData', 'PortcullisEnrollFailure'],
      ['PortcullisEnrollFailure', 'PortcullisWriteToken'],
      ['PortcullisWriteToken', 'PortcullisEnroll'],
      ['PortcullisEnroll', 'PortcullisEnrollDone'],
      ['PortcullisEnrollDone', 'InstallServices'],
      ['InstallServices', 'MsiConfigureServices'],
      ['MsiConfigureServices', 'StartServices'],
      ['PortcullisRemoveData', 'InstallFinalize'],
    ];
    for (const [before, after] of order) expect(at(before), `${before} before ${after}`).to.be.below(at(after));
    const removal = 'REMOVE~="ALL" AND NOT UPGRADINGPRODUCTCODE';
    expect(sequence.get('PortcullisUninstallCheck')?.Condition).to.equal(`${removal} AND UNINSTALLCODE`);
    expect(sequence.get('PortcullisUninstallCheckNoCode')?.Condition).to.equal(`${removal} AND NOT UNINSTALLCODE`);
    expect(sequence.get('PortcullisRemoveData')?.Condition).to.equal(removal);
    expect(sequence.get('PortcullisEnroll')?.Condition).to.equal('SERVER AND NOT (REMOVE~="ALL")');
    expect(sequence.get('PortcullisSecureData')?.Condition).to.equal('NOT (REMOVE~="ALL")');
  });

  it('embeds the custom actions script exactly as shipped (msidump)', async () => {
    const shipped = await readFile(join(WINDOWS_ASSETS_DIR, 'portcullis-msi.js'));
    expect(await readFile(join(dump, '_Streams', 'Binary.PortcullisScript'))).to.deep.equal(shipped);
    expect(await readFile(join(dump, 'Binary', 'Binary.PortcullisScript'))).to.deep.equal(shipped);
    const dumped = parseIdt(await readFile(join(dump, 'CustomAction.idt'), 'utf8'));
    expect(dumped.rows.length).to.equal(Object.keys(CUSTOM_ACTION_TYPES).length);
  });

  it('carries the agent, WinSW from node-windows and its XML unchanged (msiextract)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-msiextract-'));
    try {
      await execFileAsync('msiextract', ['-C', dir, msi], { maxBuffer: 16 * 1024 * 1024 });
      const installed = join(dir, 'Portcullis');
      expect(await sha256File(join(installed, 'portcullis-agent.exe'))).to.equal(exe.sha256);
      expect(await sha256File(join(installed, 'PortcullisAgentService.exe'))).to.equal(WINSW_SHA256);
      expect(await readFile(join(installed, 'PortcullisAgentService.xml'), 'utf8')).to.equal(winswConfig());
      expect(await readFile(join(installed, 'PortcullisAgentService.exe.config'), 'utf8')).to.include('<supportedRuntime version="v4.0" />');
      expect(await readFile(join(installed, 'WinSW-LICENSE.txt'), 'utf8')).to.include('MIT License');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is reused, not rebuilt, while its inputs are the same', async () => {
    const lines: string[] = [];
    expect(await buildMsi({ exe: exe.path, outDir: OUT_DIR, version: VERSION, log: (l) => lines.push(l) })).to.equal(msi);
    expect(lines).to.deep.equal([`msi: ${msi} is up to date`]);
  });
});
