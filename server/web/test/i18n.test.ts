import { expect } from 'chai';
import { MESSAGE_SETS } from '../src/i18n/catalogue.js';
import { LOCALES, catalogueKeys, msg, msgN, pluralForm, pluralForms, translate, translateMsg, translatePlural, type PluralKey } from '../src/i18n/i18n.js';

const PLURAL_SUFFIX = /\.(zero|one|two|few|many|other)$/;

/** The base keys of plural messages (`events.shown` for `events.shown.one` / `.other`). */
function pluralBases(locale: (typeof LOCALES)[number]): string[] {
  return [...new Set(catalogueKeys(locale).filter((k) => PLURAL_SUFFIX.test(k)).map((k) => k.replace(PLURAL_SUFFIX, '')))].sort();
}

/**
 * Messages with a `{count}` that is not followed by a noun ("3 selected", "and 3 more", "12/500",
 * "Errors (3):"), so they need no plural forms. Any other `{count}` message must be a plural.
 */
const COUNT_WITHOUT_NOUN = ['events.checked', 'overview.drift.more', 'policies.editor.errors', 'policies.exceptions', 'policies.save.commentCount'];

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
    expect(translate('en', 'signIn.failed')).to.equal('Wrong user name or password.');
    expect(translate('az', 'user.menu', { name: 'aysel' })).to.equal('aysel kimi daxil olunub ({role})');
  });

  it('translates a message given as a parameter, in the same language', () => {
    const m = msgN('events.triage.done', 2, { status: msg('events.status.resolved') });
    expect(translateMsg('en', m)).to.equal('2 events: resolved.');
    expect(translateMsg('az', m)).to.equal(`2 hadisə: ${translate('az', 'events.status.resolved')}.`);
    expect(translateMsg('en', 'as sent')).to.equal('as sent');
  });
});

describe('console messages: plurals', () => {
  it('knows the plural forms of both languages (one and other)', () => {
    for (const locale of LOCALES) expect(pluralForms(locale).sort(), locale).to.deep.equal(['one', 'other']);
    expect([0, 1, 2, 5, 21].map((n) => pluralForm('en', n))).to.deep.equal(['other', 'one', 'other', 'other', 'other']);
    expect(pluralForm('az', 1)).to.equal('one');
  });

  it('has every plural message in complete sets: each form its language needs, in both languages', () => {
    expect(pluralBases('en')).to.deep.equal(pluralBases('az'));
    expect(pluralBases('az').length).to.be.greaterThan(10);
    for (const locale of LOCALES) {
      const keys = new Set(catalogueKeys(locale));
      for (const base of pluralBases(locale)) {
        for (const form of pluralForms(locale)) expect(keys.has(`${base}.${form}`), `${base}.${form} in ${locale}`).to.equal(true);
        // The base itself is not a message: it would shadow the plural forms.
        expect(keys.has(base), `${base} in ${locale}`).to.equal(false);
      }
    }
  });

  it('puts the count in every plural form (as {count}; signIn.locked names it {minutes})', () => {
    const named: Readonly<Record<string, string>> = { 'signIn.locked': '{minutes}' };
    for (const locale of LOCALES) {
      for (const base of pluralBases(locale)) {
        for (const form of pluralForms(locale)) {
          expect(translate(locale, `${base}.${form}` as Parameters<typeof translate>[1]), `${base}.${form} in ${locale}`).to.contain(named[base] ?? '{count}');
        }
      }
    }
  });

  it('has no count before a noun outside a plural message', () => {
    for (const key of catalogueKeys('en')) {
      if (PLURAL_SUFFIX.test(key) || COUNT_WITHOUT_NOUN.includes(key)) continue;
      expect(translate('en', key as Parameters<typeof translate>[1]), key).to.not.contain('{count}');
    }
  });

  it('chooses the form by the count', () => {
    expect(translatePlural('en', 'devices.count', 1)).to.equal('1 device');
    expect(translatePlural('en', 'devices.count', 0)).to.equal('0 devices');
    expect(translatePlural('en', 'events.triage.title', 1)).to.equal('Triage 1 event');
    expect(translatePlural('en', 'policies.simulate.changes', 1)).to.equal('Devices whose decision changes (1 row):');
    expect(translatePlural('en', 'policies.diff.skipped', 1)).to.equal('… 1 unchanged line');
    expect(translatePlural('en', 'signIn.locked', 15, { minutes: 15 })).to.equal('Too many failed attempts. Try again in 15 minutes.');
    expect(translatePlural('en', 'signIn.locked', 1, { minutes: 1 })).to.equal('Too many failed attempts. Try again in 1 minute.');
    expect(translatePlural('en', 'computers.count', 1, { shown: 1 })).to.equal('1 of 1 computer');
    expect(translatePlural('az', 'devices.count', 1)).to.equal('1 qurğu');
    expect(translatePlural('az', 'devices.count', 7)).to.equal('7 qurğu');
  });

  it('answers a plural base key through translate, with the count as a parameter (as the browser tests call it)', () => {
    const base: PluralKey = 'events.triage.title';
    expect(translate('en', base, { count: 2 })).to.equal('Triage 2 events');
    expect(translate('en', base, { count: 1 })).to.equal('Triage 1 event');
    // Without a count the form is "other" (the lockout test fills only {minutes}).
    expect(translate('en', 'signIn.locked', { minutes: 15 })).to.equal('Too many failed attempts. Try again in 15 minutes.');
  });
});
