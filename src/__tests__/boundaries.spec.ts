import { nextLine, nextWord } from '../boundaries';

/** Take parts with `next` until nothing is left. */
function parts(text: string, next: (rest: string) => string): string[] {
  const taken: string[] = [];
  while (text) {
    const part = next(text);
    expect(part.length).toBeGreaterThan(0);
    expect(text.startsWith(part)).toBe(true);
    taken.push(part);
    text = text.slice(part.length);
  }
  return taken;
}

describe('nextWord', () => {
  it('takes a run of word characters, or of other non-space characters', () => {
    expect(parts('total = df.groupby("region")', nextWord)).toEqual([
      'total',
      ' =',
      ' df',
      '.',
      'groupby',
      '("',
      'region',
      '")'
    ]);
    expect(nextWord('snake_case_name(x)')).toBe('snake_case_name');
    expect(nextWord('x2 += 1')).toBe('x2');
    expect(nextWord('**kwargs')).toBe('**');
  });

  it('takes the whitespace before the word: spaces, and line breaks with the indent', () => {
    expect(nextWord('   return x')).toBe('   return');
    expect(nextWord('\n    for x in y:')).toBe('\n    for');
    expect(nextWord('\n\n  pass')).toBe('\n\n  pass');
    expect(nextWord('\t# done')).toBe('\t#');
  });

  it('takes what is left when it is only whitespace', () => {
    expect(nextWord('  ')).toBe('  ');
    expect(nextWord('\n')).toBe('\n');
    expect(nextWord('')).toBe('');
  });

  it('keeps letters of every script, accents and emoji whole', () => {
    expect(parts('prénom = données["clé"]', nextWord)).toEqual([
      'prénom',
      ' =',
      ' données',
      '["',
      'clé',
      '"]'
    ]);
    expect(nextWord('e\u0301t\u00e9 = 1')).toBe('e\u0301t\u00e9'); // a combining accent
    expect(nextWord('変数 = 値')).toBe('変数');
    expect(nextWord('π*r**2')).toBe('π');
    expect(nextWord('😀😀 ok')).toBe('😀😀'); // surrogate pairs, never split
    expect(nextWord('❤️ + 👩‍💻 x')).toBe('❤️'); // a variation selector stays
    expect(nextWord(' 👩‍💻 x')).toBe(' 👩‍💻'); // a ZWJ sequence stays whole
    expect(nextWord('𝑥𝑦 = 1')).toBe('𝑥𝑦'); // letters outside the BMP
  });
});

describe('nextLine', () => {
  it('takes the rest of the current line, without its line break', () => {
    expect(nextLine('total = df.sum()\ntotal.plot()')).toBe('total = df.sum()');
    expect(parts('a = 1\nb = 2\nc = 3', nextLine)).toEqual(['a = 1', '\nb = 2', '\nc = 3']);
  });

  it('takes the next line when the suggestion starts with a line break or a blank line', () => {
    expect(nextLine('\n    return x\nprint(1)')).toBe('\n    return x');
    expect(nextLine('\n\n  y = 2\nz')).toBe('\n\n  y = 2');
    expect(nextLine('   \n  y = 2\nz')).toBe('   \n  y = 2');
  });

  it('takes a line that starts with spaces whole, and all that is left on the last line', () => {
    expect(nextLine('    return 1\n')).toBe('    return 1');
    expect(nextLine('print(x)')).toBe('print(x)');
    expect(nextLine('\n\n')).toBe('\n\n');
    expect(nextLine('')).toBe('');
  });

  it('leaves the \\r of a \\r\\n with the line break', () => {
    expect(nextLine('a = 1\r\nb = 2')).toBe('a = 1');
  });

  it('cuts between code points', () => {
    expect(nextLine('s = "😀"\nt = "é"')).toBe('s = "😀"');
  });
});
