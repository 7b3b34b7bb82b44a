import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { PRODUCT_VERSION, PortcullisError, debFileName, debInstallCommand, enrollCommand, isDebVersion, shellQuote } from '../src/index.js';

// The one-line commands of the console's enrollment-token page (issue 7): what an admin pastes
// must mean to a POSIX shell exactly the values the console was given.

const URL = 'https://portcullis.example.az:8443';
const FP = 'AB:CD:EF';

describe('install commands', () => {
  describe('shellQuote', () => {
    const rows: Array<[string, string, string]> = [
      // a token of base64url characters stays as it is: easy to read and compare
      ['plain token', 'pct_AbC-d_9', 'pct_AbC-d_9'],
      // URLs and fingerprints use only safe characters
      ['URL', 'https://h:1/x', 'https://h:1/x'],
      ['fingerprint', '3F:A2:9C', '3F:A2:9C'],
      // a space would split the word
      ['space', 'a b', `'a b'`],
      // a single quote ends the quoting: closed, escaped, reopened
      ['single quote', "a b'c", `'a b'\\''c'`],
      // command substitution must stay text
      ['command substitution', '$(rm -rf /)', `'$(rm -rf /)'`],
      // backticks, semicolons and globs likewise
      ['backtick, semicolon, glob', '`id`;*', `'\`id\`;*'`],
      // an empty word must still be one word
      ['empty', '', `''`],
      // a newline would end the command
      ['newline', 'a\nb', `'a\nb'`],
    ];
    for (const [name, word, expected] of rows) {
      it(name, () => expect(shellQuote(word)).to.equal(expected));
    }
    it('gives a real shell back every word unchanged, as one argument', () => {
      const words = rows.map(([, word]) => word);
      const script = `printf '%s\\0' ${words.map(shellQuote).join(' ')}`;
      const out = execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      expect(out.split('\0').slice(0, -1)).to.deep.equal(words);
    });
  });

  describe('enrollCommand', () => {
    const rows: Array<[string, string, string, string | null, string]> = [
      // the agent's enroll line with token, URL and CA fingerprint; a trailing slash is dropped
      ['full line', 'pct_AbC-d_9', `${URL}/`, FP, `sudo PORTCULLIS_ENROLL_TOKEN=pct_AbC-d_9 portcullis-agent enroll --server ${URL} --fingerprint ${FP}`],
      // without a fingerprint the server does not know, --fingerprint is left out
      ['no fingerprint', 'pct_x', 'https://h:8443', null, 'sudo PORTCULLIS_ENROLL_TOKEN=pct_x portcullis-agent enroll --server https://h:8443'],
      // an odd token is quoted, not interpreted
      ['quoted token', "t'$x", URL, FP, `sudo PORTCULLIS_ENROLL_TOKEN='t'\\''$x' portcullis-agent enroll --server ${URL} --fingerprint ${FP}`],
    ];
    for (const [name, token, url, fp, expected] of rows) {
      it(name, () => expect(enrollCommand(token, url, fp)).to.equal(expected));
    }
  });

  describe('debInstallCommand', () => {
    const rows: Array<[string, string, string, string, string, string]> = [
      // the three variables postinst reads, then dpkg -i on the package of that version
      [
        'full line',
        'pct_AbC-d_9',
        `${URL}/`,
        FP,
        '0.1.0',
        `PORTCULLIS_SERVER=${URL} PORTCULLIS_TOKEN=pct_AbC-d_9 PORTCULLIS_FINGERPRINT=${FP} dpkg -i portcullis-agent_0.1.0_amd64.deb`,
      ],
      // a token a shell would read differently is quoted; so is a file name with a tilde
      ['quoted token', 'a b;$(id)', URL, FP, '1.2.3~rc1', `PORTCULLIS_SERVER=${URL} PORTCULLIS_TOKEN='a b;$(id)' PORTCULLIS_FINGERPRINT=${FP} dpkg -i 'portcullis-agent_1.2.3~rc1_amd64.deb'`],
    ];
    for (const [name, token, url, fp, version, expected] of rows) {
      it(name, () => expect(debInstallCommand(token, url, fp, version)).to.equal(expected));
    }

    const bad: Array<[string, string, string, string, string, RegExp]> = [
      // postinst needs all three values; an empty one would only fail on the PC
      ['empty token', '', URL, FP, '0.1.0', /needs PORTCULLIS_TOKEN$/],
      ['blank fingerprint and URL', 'pct_x', '/', ' ', '0.1.0', /needs PORTCULLIS_SERVER, PORTCULLIS_FINGERPRINT$/],
      // the version names a file: nothing a shell or a path would read as more
      ['version with a slash', 'pct_x', URL, FP, '../0.1.0', /not a package version: "..\/0.1.0"/],
      ['empty version', 'pct_x', URL, FP, '', /not a package version/],
    ];
    for (const [name, token, url, fp, version, message] of bad) {
      it(`refuses: ${name}`, () => {
        expect(() => debInstallCommand(token, url, fp, version))
          .to.throw(PortcullisError, message)
          .with.property('code', 'PORTCULLIS_ERR_INTERNAL');
      });
    }
  });

  describe('debFileName and isDebVersion', () => {
    const rows: Array<[string, string, boolean]> = [
      // the release's own version
      ['product version', PRODUCT_VERSION, true],
      // Debian's upstream version characters: digits first, then . + ~ -
      ['pre-release', '1.0.0~rc1+deb12-1', true],
      // an epoch is not part of the file name
      ['epoch', '1:0.1.0', false],
      // must start with a digit
      ['letter first', 'v0.1.0', false],
      ['space', '0.1 0', false],
    ];
    for (const [name, version, ok] of rows) {
      it(name, () => expect(isDebVersion(version)).to.equal(ok));
    }
    it('names the package as installers/src/deb/build-deb.ts does', () => expect(debFileName('0.1.0')).to.equal('portcullis-agent_0.1.0_amd64.deb'));
  });
});
