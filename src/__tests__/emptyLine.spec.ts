import { atEmptyLine, EmptyLineTrigger } from '../emptyLine';
import { ghostIn } from '../ghost';
import { TestEditor } from './editors';

function setup(doc = '# total revenue by region') {
  const editor = new TestEditor(doc);
  const invoked: number[] = [];
  const options = {
    on: true,
    delay: 200,
    asked: null as { text: string; offset: number } | null
  };
  const trigger = new EmptyLineTrigger({
    enabled: () => options.on,
    delay: () => options.delay,
    alreadyAsked: (text, offset) => options.asked?.text === text && options.asked.offset === offset,
    invoke: view => invoked.push((view as TestEditor).cursor)
  });
  editor.listeners.push(update => trigger.update(update));
  return { editor, invoked, options, trigger };
}

/** Whether the last update of `editor` is an empty-line moment. */
function moment(editor: TestEditor, act: () => void): boolean {
  let result = false;
  editor.listeners = [update => (result = atEmptyLine(update))];
  act();
  return result;
}

describe('atEmptyLine', () => {
  it('is true on a blank line below a comment, an opener or a line of code', () => {
    for (const line of ['# total revenue by region', 'for r in regions:', 'x = load()']) {
      const editor = new TestEditor(line);
      expect(moment(editor, () => editor.type('\n', 'input'))).toBe(true);
      expect(moment(editor, () => editor.type('    ', 'input'))).toBe(true); // an indent
      expect(moment(editor, () => editor.backspace(4))).toBe(true); // a dedent
    }
  });

  it('is false once the line has text, at the top of a blank cell, with text after the cursor, after a paste', () => {
    const editor = new TestEditor('x = 1\n');
    expect(moment(editor, () => editor.type('y'))).toBe(false);
    const blank = new TestEditor('');
    expect(moment(blank, () => blank.type('\n', 'input'))).toBe(false);
    const split = new TestEditor('x = 1; y = 2', 'x = 1;'.length);
    expect(moment(split, () => split.type('\n', 'input'))).toBe(false); // text after the cursor
    const pasted = new TestEditor('x = 1');
    expect(moment(pasted, () => pasted.type('\ny = 2\n', 'input.paste'))).toBe(false);
  });
});

describe('EmptyLineTrigger', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks once the edits stop for the delay', () => {
    const { editor, invoked } = setup();
    editor.type('\n', 'input');
    jest.advanceTimersByTime(199);
    expect(invoked).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(invoked).toEqual([editor.cursor]);
  });

  it('asks once after Enter held or pressed repeatedly, for the last line', () => {
    const { editor, invoked } = setup();
    for (let i = 0; i < 20; i++) {
      editor.type('\n', 'input');
      jest.advanceTimersByTime(35);
    }
    expect(invoked).toEqual([]);
    jest.advanceTimersByTime(200);
    expect(invoked).toEqual([editor.cursor]);
  });

  it('does not ask when typing or a cursor move follows, nor for a cell without focus', () => {
    const { editor, invoked } = setup();
    editor.type('\n', 'input');
    jest.advanceTimersByTime(100);
    editor.type('t');
    jest.advanceTimersByTime(500);
    editor.type('\n', 'input');
    editor.moveTo(0);
    jest.advanceTimersByTime(500);
    editor.hasFocus = false;
    editor.type('\n', 'input');
    jest.advanceTimersByTime(500);
    expect(invoked).toEqual([]);
  });

  it('does not ask over ghost text, nor where the provider was already asked', () => {
    const { editor, invoked, options } = setup();
    editor.type('\n', 'input');
    editor.ghost('total = 1');
    expect(ghostIn(editor.state)).not.toBeNull();
    jest.advanceTimersByTime(200);
    expect(invoked).toEqual([]);

    editor.ghost(null);
    editor.type('\n', 'input');
    options.asked = { text: editor.state.doc.toString(), offset: editor.cursor };
    jest.advanceTimersByTime(200);
    expect(invoked).toEqual([]);
  });

  it('follows the setting and the delay', () => {
    const { editor, invoked, options } = setup();
    options.on = false;
    editor.type('\n', 'input');
    jest.advanceTimersByTime(500);
    expect(invoked).toEqual([]);
    options.on = true;
    options.delay = 50;
    editor.type('\n', 'input');
    jest.advanceTimersByTime(50);
    expect(invoked.length).toBe(1);
  });

  it('leaves changes made by others alone (no user event)', () => {
    const { editor, invoked } = setup();
    editor.dispatch({ changes: { from: editor.cursor, insert: '\n' }, selection: { anchor: editor.cursor + 1 } });
    jest.advanceTimersByTime(500);
    expect(invoked).toEqual([]);
  });
});
