import { expect } from 'chai';
import { planWindowsMailEgress, windowsMailEgressRemoval } from '../src/mail/egress/windows-firewall-plan.js';

const REMOVE_ALL = "Remove-NetFirewallRule -Group 'Portcullis mail egress' -ErrorAction SilentlyContinue";
const V4_TOP = '255.255.255.255';
const V6_TOP = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

describe('mail egress on Windows: the firewall plan', () => {
  // Each row: approved servers → what is blocked on the mail ports (loopback stays open).
  const rows: Array<{ name: string; servers: string[]; v4: string[]; v6: string[] }> = [
    // nothing approved: everything but loopback
    { name: 'no server', servers: [], v4: ['0.0.0.0-126.255.255.255', `128.0.0.0-${V4_TOP}`], v6: ['::', `::2-${V6_TOP}`] },
    // the example, with loopback cut out of the upper part
    {
      name: '10.0.0.0/8',
      servers: ['10.0.0.0/8'],
      v4: ['0.0.0.0-9.255.255.255', '11.0.0.0-126.255.255.255', `128.0.0.0-${V4_TOP}`],
      v6: ['::', `::2-${V6_TOP}`],
    },
    // a host and an IPv6 server
    {
      name: 'one server per family',
      servers: ['192.0.2.25', '2001:db8::25'],
      v4: ['0.0.0.0-126.255.255.255', '128.0.0.0-192.0.2.24', `192.0.2.26-${V4_TOP}`],
      v6: ['::', '::2-2001:db8::24', `2001:db8::26-${V6_TOP}`],
    },
    // the whole IPv4 space approved: only an IPv6 rule remains
    { name: 'all of IPv4', servers: ['0.0.0.0/0'], v4: [], v6: ['::', `::2-${V6_TOP}`] },
    // approved inside loopback changes nothing
    { name: 'a loopback address', servers: ['127.0.0.25'], v4: ['0.0.0.0-126.255.255.255', `128.0.0.0-${V4_TOP}`], v6: ['::', `::2-${V6_TOP}`] },
  ];
  for (const row of rows) {
    it(`blocks the complement of ${row.name}`, () => {
      expect(planWindowsMailEgress(row.servers).blocked).to.deep.equal({ v4: row.v4, v6: row.v6 });
    });
  }

  it('writes one block rule per family, then removes the previous plan\'s rules (never a moment without a rule)', () => {
    const plan = planWindowsMailEgress(['10.0.0.0/8'], { allowLoopback: false });
    expect(plan.apply).to.have.length(3);
    const [v4, v6, cleanup] = plan.apply as [string, string, string];
    const tag = /-Name 'Portcullis-MailEgress-([0-9a-f]{8})-IPv4'/.exec(v4)?.[1];
    expect(tag, v4).to.be.a('string');
    expect(v4).to.equal(
      `New-NetFirewallRule -Name 'Portcullis-MailEgress-${tag}-IPv4' -DisplayName 'Portcullis mail egress (IPv4)' -Group 'Portcullis mail egress' ` +
        '-Direction Outbound -Action Block -Protocol TCP -RemotePort 25,110,143,465,587,993,995 ' +
        `-RemoteAddress '0.0.0.0-9.255.255.255','11.0.0.0-255.255.255.255' -Profile Any -Enabled True`,
    );
    expect(v6).to.contain(`-Name 'Portcullis-MailEgress-${tag}-IPv6'`).and.to.contain(`-RemoteAddress '::-${V6_TOP}'`);
    expect(cleanup).to.equal(
      `Get-NetFirewallRule -Group 'Portcullis mail egress' -ErrorAction SilentlyContinue | Where-Object { $_.Name -notlike 'Portcullis-MailEgress-${tag}-*' } | Remove-NetFirewallRule`,
    );
    expect(plan.remove).to.deep.equal([REMOVE_ALL]);
  });

  it('names rules after their ranges: the same servers give the same names, others new ones', () => {
    const name = (servers: string[]) => /-Name '([^']+)'/.exec(planWindowsMailEgress(servers).apply[0] ?? '')?.[1];
    expect(name(['10.0.0.0/8', '192.0.2.25'])).to.equal(name(['192.0.2.25', '10.0.0.0/8', '10.1.0.0/16']));
    expect(name(['10.0.0.0/8'])).to.not.equal(name(['10.0.0.0/9']));
  });

  it('with everything approved, adds nothing and removes what an earlier plan added', () => {
    const plan = planWindowsMailEgress(['0.0.0.0/0', '::/0']);
    expect(plan.blocked).to.deep.equal({ v4: [], v6: [] });
    expect(plan.apply).to.have.length(1);
    expect(plan.apply[0]).to.match(/^Get-NetFirewallRule .* \| Remove-NetFirewallRule$/);
  });

  it('gives the uninstaller one command that removes every rule of ours', () => {
    expect(windowsMailEgressRemoval()).to.deep.equal([REMOVE_ALL]);
  });
});
