// Just enough XML for rewriting AWS answers in place: elements found by name and parent (nesting-aware),
// text of a child, a child's text replaced. moto's answers have no CDATA and no comments in their bodies.

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;

/** Rewrites every `<name>` element whose parent is `<parent>`; `edit` returns the new element text. */
export function editElements(
  xml: string,
  parent: string,
  name: string,
  edit: (element: string) => string,
): string {
  const ranges: [number, number][] = [];
  const stack: { name: string; start?: number }[] = [];
  for (const m of xml.matchAll(TAG)) {
    const [whole, closing, tag, selfClosing] = m;
    if (whole.startsWith('<?')) continue;
    if (closing) {
      const open = stack.pop();
      if (open?.start !== undefined) ranges.push([open.start, m.index + whole.length]);
    } else if (!selfClosing) {
      const inParent = stack.at(-1)?.name === parent;
      stack.push({ name: tag!, ...(tag === name && inParent ? { start: m.index } : {}) });
    }
  }
  let out = '';
  let at = 0;
  for (const [start, end] of ranges.sort((a, b) => a[0] - b[0])) {
    out += xml.slice(at, start) + edit(xml.slice(start, end));
    at = end;
  }
  return out + xml.slice(at);
}

/** The text of the first `<tag>` inside an element. */
export function textOf(element: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(element)?.[1];
}

/** Replaces the text of the first `<tag>` (or every one, with `all`). */
export function withText(element: string, tag: string, value: string, all = false): string {
  return element.replace(new RegExp(`<${tag}>[^<]*</${tag}>`, all ? 'g' : ''), `<${tag}>${value}</${tag}>`);
}

/** Removes the first `<tag>...</tag>` child (its content must not nest another `<tag>`). */
export function without(element: string, tag: string): string {
  return element.replace(new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`), '');
}
