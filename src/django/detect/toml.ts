// Just enough TOML to read dependency tables: a table's body, and an array of strings in it.

/** The text of `[name]` up to the next table header, or undefined. */
export function tomlTable(text: string, name: string): string | undefined {
  const escaped = name.replace(/\./g, '\\.');
  const m = new RegExp(`^\\[${escaped}\\][^\\n]*\\n([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(text);
  return m?.[1];
}

/** The strings of `key = [ "a", "b" ]` (over several lines, comments allowed). */
export function tomlArray(table: string | undefined, key: string): string[] | undefined {
  if (table === undefined) return undefined;
  const start = new RegExp(`^\\s*${key}\\s*=\\s*\\[`, 'm').exec(table);
  if (!start) return undefined;
  const values: string[] = [];
  const body = table.slice(start.index + start[0].length);
  let i = 0;
  while (i < body.length && body[i] !== ']') {
    const c = body[i]!;
    if (c === '#') i = body.indexOf('\n', i) === -1 ? body.length : body.indexOf('\n', i);
    else if (c === '"' || c === "'") {
      const end = body.indexOf(c, i + 1);
      values.push(body.slice(i + 1, end));
      i = end + 1;
    } else i++;
  }
  return values;
}

/** A string value `key = "value"` in a table. */
export function tomlString(table: string | undefined, key: string): string | undefined {
  return new RegExp(`^\\s*${key}\\s*=\\s*["']([^"']*)["']`, 'm').exec(table ?? '')?.[1];
}
