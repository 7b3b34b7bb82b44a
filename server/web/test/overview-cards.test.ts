import { expect } from 'chai';
import { cardTone } from '../src/pages/overview/overview-cards.js';

describe('overview: card colours', () => {
  it('colours a bad count only when it is not zero', () => {
    expect(cardTone('offline', 0)).to.equal(undefined);
    expect(cardTone('revoked', 0)).to.equal(undefined);
    expect(cardTone('stale', 0)).to.equal(undefined);
    expect(cardTone('drift', 0)).to.equal(undefined);
    expect(cardTone('offline', 2)).to.equal('offline');
    expect(cardTone('revoked', 1)).to.equal('revoked');
    expect(cardTone('stale', 3)).to.equal('stale');
    expect(cardTone('drift', 1)).to.equal('stale');
  });

  it('keeps totals and violation counts plain, and online green only when some are', () => {
    expect(cardTone('total', 5)).to.equal(undefined);
    expect(cardTone('today', 9)).to.equal(undefined);
    expect(cardTone('month', 9)).to.equal(undefined);
    expect(cardTone('online', 4)).to.equal('online');
    expect(cardTone('online', 0)).to.equal(undefined);
  });
});
