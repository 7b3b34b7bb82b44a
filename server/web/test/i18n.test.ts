import { expect } from 'chai';
import { MESSAGE_SETS } from '../src/i18n/catalogue.js';
import { catalogueKeys, translate } from '../src/i18n/i18n.js';

describe('console messages', () => {
  it('has every key in both languages', () => {
    expect(catalogueKeys('en')).to.deep.equal(catalogueKeys('az'));
  });

  it('never defines a key in two message sets (one would silently win)', () => {
    const seen = new Map<string, string>();
    for (const [set, messages] of Object.entries(MESSAGE_SETS)) {
      for (const key of Object.keys(messages.az)) {
        expect(seen.get(key), `${key} in ${set} and ${seen.get(key) ?? ''}`).to.equal(undefined);
        seen.set(key, set);
      }
    }
  });

  it('uses the same parameters in both languages for every key', () => {
    const params = (s: string) => [...s.matchAll(/\{([a-zA-Z0-9_]+)\}/g)].map((m) => m[1]).sort();
    for (const key of catalogueKeys('az')) {
      const k = key as Parameters<typeof translate>[1];
      expect(params(translate('en', k)), key).to.deep.equal(params(translate('az', k)));
    }
  });

  it('has no empty text and no English left in the Azerbaijani catalogue by mistake', () => {
    for (const key of catalogueKeys('az')) {
      const k = key as Parameters<typeof translate>[1];
      expect(translate('az', k).trim(), key).to.not.equal('');
      // Brand names, language names and 'administrator' are the same in both; anything else identical is suspect.
      if (!['app.name', 'lang.az', 'lang.en', 'role.admin'].includes(key) && translate('az', k).length > 12) {
        expect(translate('az', k), key).to.not.equal(translate('en', k));
      }
    }
  });

  it('fills parameters and leaves a missing one visible', () => {
    expect(translate('en', 'signIn.locked', { minutes: 15 })).to.equal('Too many failed attempts. Try again in 15 minutes.');
    expect(translate('az', 'user.menu', { name: 'aysel' })).to.equal('aysel kimi daxil olunub ({role})');
  });
});
