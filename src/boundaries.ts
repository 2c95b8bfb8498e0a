/**
 * Where the next word and the next line of a suggestion end, for taking part of it. Pure:
 * strings in, strings out. Cuts fall between code points, never inside a surrogate pair, and
 * a combining mark, a variation selector or a zero-width joiner stays with what it follows.
 */

/** Letters, digits and connectors (`_`) of any script. */
const WORD = /[\p{L}\p{N}\p{Pc}]/u;
/** What attaches to the code point before it: marks, variation selectors, ZWJ. */
const ATTACHED = /[\p{M}\u200d]/u;
const SPACE = /\s/u;

/**
 * The next word of `text`, as Ctrl+→ moves in the editor (CodeMirror's group motion): the
 * whitespace first (line breaks included), then one run of word characters or one run of
 * other non-space characters (punctuation, operators, symbols). All of `text` when only
 * whitespace is left.
 */
export function nextWord(text: string): string {
  const points = Array.from(text);
  let k = 0;
  while (k < points.length && SPACE.test(points[k])) {
    k++;
  }
  if (k === points.length) {
    return text;
  }
  const word = WORD.test(points[k]);
  k++;
  while (
    k < points.length &&
    (ATTACHED.test(points[k]) || (!SPACE.test(points[k]) && WORD.test(points[k]) === word))
  ) {
    k++;
  }
  return points.slice(0, k).join('');
}

/**
 * The next line of `text`: up to the end of its first line with content, without the line
 * break (blank lines before it included, so that a suggestion that starts on the next line
 * takes that line). All of `text` when no line break follows content.
 */
export function nextLine(text: string): string {
  let start = 0;
  for (;;) {
    const newline = text.indexOf('\n', start);
    if (newline < 0) {
      return text;
    }
    if (text.slice(start, newline).trim()) {
      // without the `\r` of a `\r\n`: the editor would take it for a line break
      return text.slice(0, text[newline - 1] === '\r' ? newline - 1 : newline);
    }
    start = newline + 1;
  }
}
