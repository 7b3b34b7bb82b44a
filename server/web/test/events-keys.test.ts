import { expect } from 'chai';
import { keyAction, moveSelection, type KeyPress } from '../src/pages/events/event-keys.js';

describe('events page: keyboard', () => {
  // One row per key press on the table: the action it must give.
  const rows: Array<[string, KeyPress, unknown]> = [
    ['j moves down', { key: 'j' }, { kind: 'move', by: 1 }],
    ['ArrowDown moves down', { key: 'ArrowDown' }, { kind: 'move', by: 1 }],
    ['k moves up', { key: 'k' }, { kind: 'move', by: -1 }],
    ['ArrowUp moves up', { key: 'ArrowUp', targetTag: 'TR' }, { kind: 'move', by: -1 }],
    ['Enter on a row expands it', { key: 'Enter', targetTag: 'TR' }, { kind: 'expand' }],
    ['o expands', { key: 'o' }, { kind: 'expand' }],
    ['x checks the row', { key: 'x' }, { kind: 'check' }],
    ['a acknowledges', { key: 'a' }, { kind: 'triage', status: 'acknowledged' }],
    ['r resolves', { key: 'r' }, { kind: 'triage', status: 'resolved' }],
    ['f marks false positive', { key: 'f' }, { kind: 'triage', status: 'false-positive' }],
    ['/ goes to search', { key: '/' }, { kind: 'search' }],
    ['? shows the help', { key: '?' }, { kind: 'help' }],
    ['Escape closes the help, even from a field', { key: 'Escape', targetTag: 'INPUT' }, { kind: 'close' }],
    // Typing in a field is the field's: "j" in the search box is a letter.
    ['j in an input is ignored', { key: 'j', targetTag: 'INPUT' }, null],
    ['r in a textarea is ignored', { key: 'r', targetTag: 'TEXTAREA' }, null],
    ['ArrowDown in a select is ignored', { key: 'ArrowDown', targetTag: 'SELECT' }, null],
    ['a in an editable element is ignored', { key: 'a', targetEditable: true }, null],
    // Enter on a button or link does what the button or link does.
    ['Enter on a button is the button\'s', { key: 'Enter', targetTag: 'BUTTON' }, null],
    ['Enter on a link is the link\'s', { key: 'Enter', targetTag: 'A' }, null],
    // Browser shortcuts stay the browser's.
    ['Ctrl+r is the browser\'s reload', { key: 'r', ctrlKey: true }, null],
    ['Cmd+f is the browser\'s find', { key: 'f', metaKey: true }, null],
    ['an unbound key does nothing', { key: 'z' }, null],
  ];
  for (const [name, press, expected] of rows) {
    it(name, () => {
      expect(keyAction(press, false).action).to.deep.equal(expected);
    });
  }

  it('g then r reloads; g then anything else does nothing', () => {
    const g = keyAction({ key: 'g' }, false);
    expect(g).to.deep.equal({ action: null, pendingG: true });
    expect(keyAction({ key: 'r' }, g.pendingG)).to.deep.equal({ action: { kind: 'reload' }, pendingG: false });
    expect(keyAction({ key: 'j' }, true)).to.deep.equal({ action: null, pendingG: false });
  });

  it('moves the selection inside the table, without wrapping', () => {
    expect(moveSelection(-1, 1, 5)).to.equal(0);
    expect(moveSelection(-1, -1, 5)).to.equal(4);
    expect(moveSelection(2, 1, 5)).to.equal(3);
    expect(moveSelection(4, 1, 5)).to.equal(4);
    expect(moveSelection(0, -1, 5)).to.equal(0);
    expect(moveSelection(0, 1, 0)).to.equal(-1);
  });
});
