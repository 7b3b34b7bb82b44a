import { expect } from 'chai';
import { removalCommand } from '../src/pages/computers/computer-actions.js';

describe('computers: the uninstall code', () => {
  const rows: Array<{ name: string; os: string; expected: string | null }> = [
    // the .deb: removal through apt, the code in the environment (never on the command line)
    { name: 'Ubuntu', os: 'Ubuntu 24.04.1 LTS', expected: 'sudo PORTCULLIS_UNINSTALL_CODE=7K3M-Q9XA-2B4D apt remove portcullis-agent' },
    { name: 'Debian', os: 'Debian GNU/Linux 12 (bookworm)', expected: 'sudo PORTCULLIS_UNINSTALL_CODE=7K3M-Q9XA-2B4D apt remove portcullis-agent' },
    // Windows: no apt; its installer takes the code its own way
    { name: 'Windows', os: 'Windows 11 Pro 23H2', expected: null },
    { name: 'Windows in lower case', os: 'microsoft windows server 2022', expected: null },
  ];
  for (const row of rows) {
    it(`shows ${row.expected === null ? 'no command' : 'the apt command'} for ${row.name}`, () => {
      expect(removalCommand(row.os, '7K3M-Q9XA-2B4D')).to.equal(row.expected);
    });
  }
});
