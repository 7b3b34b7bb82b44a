/**
 * The MSI's script custom actions (windows-assets/portcullis-msi.js) run here by V8 against a
 * fake Windows Installer session and a fake FileSystemObject: the property checks row by row,
 * secrets that contain "|", what is logged and what is deleted. The wine test runs the same
 * script inside a real installation.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { WINDOWS_ASSETS_DIR } from '../src/msi/build-msi.js';

const SUCCESS = 1;
const FAILURE = 3;
const MESSAGE_ERROR = 0x01000000;
const MESSAGE_INFO = 0x04000000;

/** The folders as Windows Installer resolves them on a default Windows, before Validate runs. */
const FOLDERS: Record<string, string> = {
  CommonAppDataFolder: 'C:\\ProgramData\\',
  DATADIR: 'C:\\ProgramData\\Portcullis\\',
  STATEDIR: 'C:\\ProgramData\\Portcullis\\agent\\',
  INSTALLDIR: 'C:\\Program Files\\Portcullis\\',
};
const FINGERPRINT = '3F:A2:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:9C';
const TOKEN = 'pct_yQra-cFbj3NYcGnfnp4L7OvXOmOhDUNTd1N3C2bwUNk';

interface Run {
  result: unknown;
  messages: { kind: number; text: string }[];
  files: Map<string, string>;
}

/**
 * JScript lets a script assign to a COM object's parameterized property (`record.StringData(1) =
 * text`); V8 parses that but throws when it runs. The harness turns those assignments into calls
 * of the fake record, and counts them so that a changed script cannot slip past it.
 */
async function loadScript(): Promise<string> {
  const source = await readFile(join(WINDOWS_ASSETS_DIR, 'portcullis-msi.js'), 'utf8');
  let rewritten = 0;
  const shimmed = source.replace(/(\w+)\.StringData\((\d+)\) = ([^;]+);/g, (_m, record: string, field: string, value: string) => {
    rewritten += 1;
    return `${record}.StringData(${field}, ${value});`;
  });
  expect(rewritten, 'the StringData assignments the harness rewrites').to.equal(2);
  return shimmed;
}

/** Runs one entry point of the script with these properties and files. */
function run(script: string, entry: string, properties: Record<string, string>, files: Map<string, string> = new Map()): Run {
  const messages: Run['messages'] = [];
  const session = {
    Property: (name: string) => properties[name] ?? '',
    Installer: {
      CreateRecord: () => {
        const fields: string[] = [];
        return { fields, StringData: (i: number, v: string) => void (fields[i] = v) };
      },
    },
    Message: (kind: number, record: { fields: string[] }) => {
      messages.push({ kind, text: (record.fields[0] ?? '').replace('[1]', record.fields[1] ?? '') });
    },
  };
  const fso = {
    FileExists: (p: string) => files.has(p),
    DeleteFile: (p: string) => void files.delete(p),
    CreateTextFile: (p: string) => {
      if (files.has(p)) throw new Error(`${p} exists`);
      files.set(p, '');
      return { Write: (t: string) => void files.set(p, (files.get(p) ?? '') + t), Close: () => undefined };
    },
    OpenTextFile: (p: string) => ({ AtEndOfStream: (files.get(p) ?? '') === '', ReadAll: () => files.get(p) ?? '', Close: () => undefined }),
    FolderExists: (p: string) => [...files.keys()].some((f) => f.startsWith(`${p}\\`)),
    DeleteFolder: (p: string) => [...files.keys()].filter((f) => f.startsWith(`${p}\\`)).forEach((f) => files.delete(f)),
  };
  function ActiveXObject(progId: string): unknown {
    // Like wine: no ADODB.Stream, so the script falls back to the FileSystemObject.
    if (progId === 'Scripting.FileSystemObject') return fso;
    throw new Error(`Automation server can't create object ${progId}`);
  }
  const context: Record<string, unknown> = { Session: session, ActiveXObject };
  runInNewContext(`${script}\nresult = ${entry}();`, context);
  return { result: context.result, messages, files };
}

describe('msi: the custom actions script', () => {
  let script: string;
  before(async () => {
    script = await loadScript();
  });

  describe('Validate', () => {
    const rows: { name: string; properties: Record<string, string>; ok: boolean; says?: RegExp }[] = [
      // A plain install, to be enrolled later.
      { name: 'no property at all', properties: {}, ok: true },
      // The silent install of the README.
      { name: 'SERVER, TOKEN and FINGERPRINT', properties: { SERVER: 'https://portcullis.example:8443', TOKEN, FINGERPRINT }, ok: true },
      // Case, a SHA256: prefix and spaces do not matter to the agent.
      { name: 'a lowercase fingerprint with a prefix', properties: { SERVER: 'https://10.0.0.5', TOKEN, FINGERPRINT: `sha256:${FINGERPRINT.toLowerCase()}` }, ok: true },
      // An IPv6 literal with a port and a trailing slash.
      { name: 'an IPv6 server', properties: { SERVER: 'https://[fd00::5]:8443/', TOKEN, FINGERPRINT }, ok: true },
      // Half the enrollment properties: nothing would enroll, so it is refused.
      { name: 'SERVER alone', properties: { SERVER: 'https://portcullis.example' }, ok: false, says: /give SERVER, TOKEN and FINGERPRINT together/ },
      // A token without a server.
      { name: 'TOKEN alone', properties: { TOKEN }, ok: false, says: /together/ },
      // Plain http would send the token in clear.
      { name: 'an http server', properties: { SERVER: 'http://portcullis.example', TOKEN, FINGERPRINT }, ok: false, says: /SERVER must be https:\/\/host/ },
      // Nothing after the port.
      { name: 'a server with a path', properties: { SERVER: 'https://portcullis.example/api', TOKEN, FINGERPRINT }, ok: false, says: /SERVER must be/ },
      // A quote would end the quoted argument of cmd.exe.
      { name: 'a quote in SERVER', properties: { SERVER: 'https://a" & calc & "', TOKEN, FINGERPRINT }, ok: false, says: /SERVER must be/ },
      // Not a SHA-256.
      { name: 'a short fingerprint', properties: { SERVER: 'https://a.example', TOKEN, FINGERPRINT: '3F:A2:9C' }, ok: false, says: /FINGERPRINT must be/ },
      // Tokens have no spaces.
      { name: 'a token with a space', properties: { SERVER: 'https://a.example', TOKEN: 'pct_abc def12345', FINGERPRINT }, ok: false, says: /TOKEN must be 8 to 128/ },
      // Too short to be a token.
      { name: 'a 7-character token', properties: { SERVER: 'https://a.example', TOKEN: 'pct_abc', FINGERPRINT }, ok: false, says: /TOKEN must be/ },
      // Uninstall codes are letters, digits and dashes.
      { name: 'a garbled uninstall code', properties: { UNINSTALLCODE: 'AB%C-"1"' }, ok: false, says: /UNINSTALLCODE must look like XXXX-XXXX-XXXX/ },
      // The agent accepts 1 or nothing.
      { name: 'FORCEREMOVE=yes', properties: { FORCEREMOVE: 'yes' }, ok: false, says: /FORCEREMOVE must be 1/ },
      // cmd.exe expands %VAR% even inside quotes.
      { name: 'a percent sign in INSTALLDIR', properties: { INSTALLDIR: 'C:\\100%sure%\\' }, ok: false, says: /INSTALLDIR must not contain/ },
      // The program folder may move: WinSW finds the agent beside itself.
      { name: 'another INSTALLDIR', properties: { INSTALLDIR: 'D:\\Tools\\Portcullis\\' }, ok: true },
      // Windows paths are case-insensitive.
      { name: 'the data folder in other case', properties: { DATADIR: 'c:\\programdata\\PORTCULLIS\\' }, ok: true },
      // The service's XML names %ProgramData%\Portcullis\agent.
      { name: 'a moved DATADIR', properties: { DATADIR: 'D:\\Data\\Portcullis\\' }, ok: false, says: /the agent's data stays in C:\\ProgramData\\Portcullis\\: DATADIR and STATEDIR cannot move it/ },
      { name: 'a moved STATEDIR', properties: { STATEDIR: 'C:\\ProgramData\\Portcullis\\other\\' }, ok: false, says: /cannot move it/ },
    ];
    for (const row of rows) {
      it(`${row.ok ? 'accepts' : 'refuses'} ${row.name}`, () => {
        const { result, messages } = run(script, 'Validate', { ...FOLDERS, ...row.properties });
        expect(result).to.equal(row.ok ? SUCCESS : FAILURE);
        if (row.ok) {
          expect(messages).to.deep.equal([]);
        } else {
          expect(messages).to.have.length(1);
          expect(messages[0]?.kind).to.equal(MESSAGE_ERROR);
          expect(messages[0]?.text).to.match(row.says ?? /./);
        }
      });
    }

    it('never repeats a secret it refuses', () => {
      const secret = 'pct_secret with space';
      const { messages } = run(script, 'Validate', { ...FOLDERS, SERVER: 'https://a.example', TOKEN: secret, FINGERPRINT, UNINSTALLCODE: 'bad!code' });
      expect(messages.map((m) => m.text).join('\n')).to.not.include(secret).and.to.not.include('bad!code');
    });
  });

  describe('the deferred actions', () => {
    const dir = 'C:\\ProgramData\\Portcullis';
    const tokenFile = `${dir}\\enroll-token.tmp`;
    const output = `${dir}\\enroll-output.log`;

    it('WriteSecret writes the secret alone, "|" and all, replacing an older file', () => {
      const files = new Map([[tokenFile, 'stale']]);
      const { result } = run(script, 'WriteSecret', { CustomActionData: `${tokenFile}|to|ken|` }, files);
      expect(result).to.equal(SUCCESS);
      expect(files.get(tokenFile)).to.equal('to|ken|');
    });

    it('WriteSecret fails, saying why, when CustomActionData has no file', () => {
      const { result, messages } = run(script, 'WriteSecret', { CustomActionData: 'no separator' });
      expect(result).to.equal(FAILURE);
      expect(messages[0]?.text).to.match(/WriteSecret: the installer passed 1 field\(s\) where 2 were expected/);
    });

    it('Collect copies the output into the log and deletes it and the secret', () => {
      const files = new Map([
        [tokenFile, TOKEN],
        [output, 'Enrolled as agt_1 in group default\r\n'],
      ]);
      const { result, messages } = run(script, 'Collect', { CustomActionData: `${output}|${tokenFile}|Enrollment with https://a.example` }, files);
      expect(result).to.equal(SUCCESS);
      expect(messages).to.deep.equal([{ kind: MESSAGE_INFO, text: 'Portcullis: Enrollment with https://a.example:\r\nEnrolled as agt_1 in group default' }]);
      expect([...files.keys()]).to.deep.equal([]);
    });

    it('CollectFailure shows the failed step, its output and the hint, and deletes the secret', () => {
      const files = new Map([
        [tokenFile, TOKEN],
        [output, 'enroll: the server refused the token\r\n'],
      ]);
      const { result, messages } = run(script, 'CollectFailure', { CustomActionData: `${output}|${tokenFile}|Enrollment|Check TOKEN.` }, files);
      expect(result).to.equal(SUCCESS);
      expect(messages).to.deep.equal([{ kind: MESSAGE_ERROR, text: 'Portcullis: Enrollment failed:\r\nenroll: the server refused the token\r\nCheck TOKEN.' }]);
      expect(files.size).to.equal(0);
    });

    it('CollectFailure after a later failure (output already collected) only makes sure the secret is gone', () => {
      const files = new Map([[tokenFile, TOKEN]]);
      const { result, messages } = run(script, 'CollectFailure', { CustomActionData: `${output}|${tokenFile}|Enrollment|hint` }, files);
      expect(result).to.equal(SUCCESS);
      expect(messages).to.deep.equal([]);
      expect(files.size).to.equal(0);
    });

    it('RemoveData deletes the data folder, trailing backslash or not', () => {
      const files = new Map([
        [`${dir}\\agent\\identity.json`, '{}'],
        [`${dir}\\logs\\PortcullisAgentService.out.log`, ''],
        ['C:\\ProgramData\\Other\\keep.txt', 'x'],
      ]);
      const { result } = run(script, 'RemoveData', { CustomActionData: `${dir}\\` }, files);
      expect(result).to.equal(SUCCESS);
      expect([...files.keys()]).to.deep.equal(['C:\\ProgramData\\Other\\keep.txt']);
    });
  });
});
