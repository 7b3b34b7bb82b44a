import { expect } from 'chai';
import { shortRule } from '../src/pages/computers/computer-actions.js';

describe('temporary grant comments', () => {
  it('keep a short rule whole', () => {
    expect(shortRule('allow id 0781:5567 serial "4C53"')).to.equal('allow id 0781:5567 serial "4C53"');
  });

  it('cut a rule a device made long (its own name and serial) so the comment stays under the server\u2019s 500 characters', () => {
    const long = `allow id 0781:5567 serial "${'\\xff'.repeat(150)}" name "${'A'.repeat(300)}"`;
    const cut = shortRule(long);
    expect(cut).to.have.length(200);
    expect(cut.endsWith('…')).to.equal(true);
    expect(long.startsWith(cut.slice(0, 199))).to.equal(true);
  });
});
