/**
 * The parts of the MSI that are computed rather than written: the ProductCode of a version, the
 * custom actions' types, msibuild's SQL, the IDT parser that reads tables back, and WinSW's XML
 * with the environment the agent must not inherit.
 */
import { expect } from 'chai';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMsi, msiFileName } from '../src/msi/build-msi.js';
import { checkMsiVersion, CUSTOM_ACTION_TYPES, HIDDEN_PROPERTIES, parseIdt, postProcessQueries, productCode, PUBLIC_PROPERTIES, UPGRADE_CODE } from '../src/msi/msi-tables.js';
import { CLEARED_ENV, cmdCleanEnv, SERVICE_ID, winswConfig } from '../src/msi/winsw.js';

const GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

describe('msi: computed tables and files', () => {
  describe('checkMsiVersion', () => {
    const rows: { version: string; ok: boolean }[] = [
      // The agent's version today.
      { version: '0.1.0', ok: true },
      // The largest Windows Installer accepts.
      { version: '255.255.65535', ok: true },
      // Major above 255.
      { version: '256.0.0', ok: false },
      // Build above 65535.
      { version: '1.2.65536', ok: false },
      // Windows Installer ignores a fourth field when it compares, so upgrades would not happen.
      { version: '1.2.3.4', ok: false },
      // Two fields only.
      { version: '1.2', ok: false },
      // Prefixes and suffixes of other version schemes.
      { version: 'v1.2.3', ok: false },
      { version: '1.2.3-beta', ok: false },
    ];
    for (const row of rows) {
      it(`${row.ok ? 'accepts' : 'refuses'} ${row.version}`, () => {
        if (row.ok) expect(checkMsiVersion(row.version)).to.equal(row.version);
        else expect(() => checkMsiVersion(row.version)).to.throw(/not a Windows Installer product version/);
      });
    }
  });

  describe('productCode', () => {
    it('is a name-based (v5) GUID, the same on every build of a version', () => {
      expect(productCode('0.1.0')).to.match(GUID);
      expect(productCode('0.1.0')).to.equal(productCode('0.1.0'));
    });
    it('differs between versions and from the UpgradeCode', () => {
      const codes = new Set(['0.1.0', '0.1.1', '0.2.0', '1.0.0'].map(productCode));
      expect(codes.size).to.equal(4);
      expect(codes.has(UPGRADE_CODE)).to.equal(false);
    });
    it('refuses a version Windows Installer would not compare', () => {
      expect(() => productCode('1.0')).to.throw(/not a Windows Installer product version/);
    });
  });

  describe('custom action types', () => {
    const bit = (type: number, mask: number) => (type & mask) === mask;
    for (const [action, type] of Object.entries(CUSTOM_ACTION_TYPES)) {
      const base = type & 0x3f;
      if (base === 5) {
        it(`${action} runs in the 64-bit script host`, () => expect(bit(type, 0x1000)).to.equal(true));
      }
      if (bit(type, 0x400)) {
        it(`${action}, deferred, runs as LocalSystem (NoImpersonate)`, () => expect(bit(type, 0x800)).to.equal(true));
      }
    }
    it('hides the target of every action that carries a secret', () => {
      for (const hidden of HIDDEN_PROPERTIES.filter((p) => p.startsWith('Portcullis'))) {
        expect(bit(CUSTOM_ACTION_TYPES[hidden] ?? 0, 0x2000), hidden).to.equal(true);
        expect(bit(CUSTOM_ACTION_TYPES[`Set${hidden}`] ?? 0, 0x2000), `Set${hidden}`).to.equal(true);
      }
    });
  });

  describe('postProcessQueries', () => {
    it('sets every custom action type, once', () => {
      const queries = postProcessQueries([]);
      for (const [action, type] of Object.entries(CUSTOM_ACTION_TYPES)) {
        expect(queries.filter((q) => q.endsWith(`WHERE \`Action\` = '${action}'`)), action).to.deep.equal([`UPDATE \`CustomAction\` SET \`Type\` = ${type} WHERE \`Action\` = '${action}'`]);
      }
    });
    it("adds the public properties to wixl's SecureCustomProperties without repeating one", () => {
      const secure = postProcessQueries(['WIX_UPGRADE_DETECTED', 'SERVER']).find((q) => q.includes("'SecureCustomProperties'"));
      expect(secure).to.equal(`UPDATE \`Property\` SET \`Value\` = 'WIX_UPGRADE_DETECTED;SERVER;${PUBLIC_PROPERTIES.filter((p) => p !== 'SERVER').join(';')}' WHERE \`Property\` = 'SecureCustomProperties'`);
    });
    it('writes SecureCustomProperties when wixl did not', () => {
      expect(postProcessQueries(null)).to.include(`INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('SecureCustomProperties', '${PUBLIC_PROPERTIES.join(';')}')`);
    });
    it('restarts the service 10, 30 and 60 s after a failure, the count reset after a day', () => {
      const insert = postProcessQueries([]).find((q) => q.startsWith('INSERT INTO `MsiServiceConfigFailureActions`'));
      expect(insert).to.include(`VALUES ('PortcullisAgentRestarts', '${SERVICE_ID}', 5, 86400, '1[~]1[~]1', '10000[~]30000[~]60000', 'Service')`);
    });
  });

  describe('parseIdt', () => {
    it('reads an exported table', () => {
      const table = parseIdt('Property\tValue\r\ns72\tl0\r\nProperty\tProperty\r\nALLUSERS\t1\r\nARPNOMODIFY\t1\r\n');
      expect(table).to.deep.equal({
        name: 'Property',
        columns: ['Property', 'Value'],
        rows: [
          { Property: 'ALLUSERS', Value: '1' },
          { Property: 'ARPNOMODIFY', Value: '1' },
        ],
      });
    });
    it('keeps empty values', () => {
      expect(parseIdt('A\tB\tC\ns72\tS72\tI2\nT\tA\nx\t\t\n').rows).to.deep.equal([{ A: 'x', B: '', C: '' }]);
    });
    const bad: { text: string; says: RegExp }[] = [
      // msiinfo printed nothing (an unknown table).
      { text: '', says: /not an exported MSI table/ },
      // Names and types disagree.
      { text: 'A\tB\ns72\nT\tA\n', says: /2 columns have 1 types/ },
      // A row with a missing column.
      { text: 'A\tB\ns72\ts72\nT\tA\nonly-one\n', says: /T, row 1: 1 values for 2 columns/ },
    ];
    for (const row of bad) {
      it(`refuses ${row.says.source}`, () => expect(() => parseIdt(row.text)).to.throw(row.says));
    }
  });

  describe("WinSW's configuration", () => {
    const xml = winswConfig();
    it('starts with <service>: WinSW 1.17 reads resetfailure and stoptimeout under the first node only', () => {
      expect(xml.startsWith('<service>\n')).to.equal(true);
      expect(xml.trimEnd().endsWith('</service>')).to.equal(true);
    });
    const wanted: { what: string; text: string }[] = [
      // The service control manager's name for it.
      { what: 'the id', text: `<id>${SERVICE_ID}</id>` },
      // A bare name: CreateProcess looks in WinSW's own folder first; %BASE% is wrong in 1.17.
      { what: 'the agent exe', text: '<executable>portcullis-agent.exe</executable>' },
      // The agent's own default state folder on Windows.
      { what: 'the run command', text: '<arguments>run --state "%ProgramData%\\Portcullis\\agent"</arguments>' },
      { what: 'automatic start', text: '<startmode>Automatic</startmode>' },
      { what: 'three restarts', text: '<onfailure action="restart" delay="10 sec"/>\n  <onfailure action="restart" delay="30 sec"/>\n  <onfailure action="restart" delay="60 sec"/>' },
      { what: 'the reset of the failure count', text: '<resetfailure>1 day</resetfailure>' },
      // Under the SYSTEM+Administrators-only data folder, not in Program Files.
      { what: 'the log folder', text: '<logpath>%ProgramData%\\Portcullis\\logs</logpath>' },
      { what: 'rolled logs', text: '<log mode="roll"/>' },
    ];
    for (const row of wanted) {
      it(`has ${row.what}`, () => expect(xml).to.include(row.text));
    }
    it('clears every Node variable for the agent, NODE_OPTIONS first', () => {
      expect(CLEARED_ENV[0]).to.equal('NODE_OPTIONS');
      for (const name of CLEARED_ENV) expect(xml).to.include(`<env name="${name}" value=""/>`);
      expect(xml.match(/<env /g)).to.have.length(CLEARED_ENV.length);
    });
    it('names no service account: LocalSystem', () => expect(xml).to.not.include('serviceaccount'));
    it('refuses a folder that would break out of its XML or quotes', () => {
      expect(() => winswConfig({ stateDir: 'C:\\a"b', logDir: 'C:\\logs' })).to.throw(/stateDir .* has characters/);
      expect(() => winswConfig({ stateDir: 'C:\\state', logDir: 'C:\\<logs>' })).to.throw(/logDir .* has characters/);
    });
  });

  describe('cmdCleanEnv', () => {
    it('clears each variable with "&", so that a variable already unset does not stop the line', () => {
      expect(cmdCleanEnv(['NODE_OPTIONS', 'OPENSSL_CONF'])).to.equal('set NODE_OPTIONS=& set OPENSSL_CONF=&');
    });
    it('refuses what is not a variable name', () => {
      expect(() => cmdCleanEnv(['NODE_OPTIONS&calc'])).to.throw(/not an environment variable name/);
    });
  });

  describe('buildMsi refuses bad input before any work', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'portcullis-msi-bad-'));
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('a Linux binary instead of the Windows exe', async () => {
      const elf = join(dir, 'agent');
      await copyFile(process.execPath, elf);
      await expectRejection(buildMsi({ exe: elf, outDir: dir, version: '0.1.0' }), /is not a 64-bit Windows executable/);
    });
    it('a 32-bit Windows exe', async () => {
      const pe32 = join(dir, 'agent32.exe');
      const image = Buffer.alloc(512);
      image.write('MZ', 0, 'latin1');
      image.writeUInt32LE(0x80, 60);
      image.write('PE\0\0', 0x80, 'latin1');
      image.writeUInt16LE(0x14c, 0x84);
      await writeFile(pe32, image);
      await expectRejection(buildMsi({ exe: pe32, outDir: dir, version: '0.1.0' }), /is not a 64-bit Windows executable/);
    });
    it('a missing exe', async () => {
      await expectRejection(buildMsi({ exe: join(dir, 'nothing.exe'), outDir: dir, version: '0.1.0' }), /cannot be read \(ENOENT\)/);
    });
    it('a version Windows Installer cannot compare', async () => {
      await expectRejection(buildMsi({ exe: join(dir, 'nothing.exe'), outDir: dir, version: '0.1' }), /not a Windows Installer product version/);
      expect(() => msiFileName('0.1.0.7')).to.throw(/not a Windows Installer product version/);
    });
  });
});

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a rejection matching ${message}`);
}
