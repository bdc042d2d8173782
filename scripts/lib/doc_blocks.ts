// Generated blocks inside hand-written Markdown: `<!-- name -->` ... `<!-- /name -->`.
// A generator rewrites the block; a test compares it with what it would write.

export function readBlock(text: string, name: string): string | undefined {
  return new RegExp(`<!-- ${name} -->\\n([\\s\\S]*?)\\n<!-- /${name} -->`).exec(text)?.[1];
}

export function writeBlock(text: string, name: string, content: string, file: string): string {
  const marked = new RegExp(`(<!-- ${name} -->\\n)[\\s\\S]*?(<!-- /${name} -->)`);
  if (!marked.test(text)) throw new Error(`${file} has no <!-- ${name} --> ... <!-- /${name} --> block`);
  return text.replace(marked, (_, start: string, end: string) => `${start}${content}\n${end}`);
}
