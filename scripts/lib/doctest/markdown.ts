// The runnable examples of a Markdown document: every ```bash, ```sh and
// ```python block, in document order. Two HTML comments, invisible on GitHub,
// may stand on the lines right before a block:
//   <!-- doctest: skip <reason> -->        not run (the reason is required)
//   <!-- doctest-setup                     code run first, in the same language
//   config = {...}                         (what a reader's script has already
//   -->                                    defined: a config, a train() function)

export type ExampleLanguage = 'bash' | 'python';

export interface Example {
  file: string;
  /** 1-based line of the block's first code line. */
  line: number;
  language: ExampleLanguage;
  code: string;
  /** Code run before the example's own, not shown to readers. */
  setup: string;
  /** Set when the document says not to run the block, and why. */
  skip?: string;
}

const LANGUAGES: Record<string, ExampleLanguage> = { bash: 'bash', sh: 'bash', shell: 'bash', python: 'python', py: 'python' };

export function extractExamples(markdown: string, file: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  let pendingSkip: string | undefined;
  let pendingSetup = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const skip = /^<!--\s*doctest:\s*skip\b\s*(.*?)\s*-->\s*$/.exec(line);
    if (skip) {
      if (!skip[1]) throw new Error(`${file}:${i + 1}: "doctest: skip" needs a reason`);
      pendingSkip = skip[1];
      continue;
    }
    if (/^<!--\s*doctest-setup\s*$/.test(line)) {
      const end = lines.findIndex((l, j) => j > i && /^-->\s*$/.test(l));
      if (end < 0) throw new Error(`${file}:${i + 1}: doctest-setup comment is not closed by a line "-->"`);
      pendingSetup = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const fence = /^(`{3,})\s*([A-Za-z]*)\s*$/.exec(line);
    if (fence) {
      const close = lines.findIndex((l, j) => j > i && l.trimEnd() === fence[1]);
      if (close < 0) throw new Error(`${file}:${i + 1}: code block is not closed`);
      const language = LANGUAGES[fence[2]!.toLowerCase()];
      if (language) {
        examples.push({
          file, line: i + 2, language, code: lines.slice(i + 1, close).join('\n'), setup: pendingSetup,
          ...(pendingSkip ? { skip: pendingSkip } : {}),
        });
      } else if (pendingSkip || pendingSetup) {
        throw new Error(`${file}:${i + 1}: a doctest comment stands before a block that is not bash or python`);
      }
      pendingSkip = undefined;
      pendingSetup = '';
      i = close;
      continue;
    }
    if (line.trim() !== '' && (pendingSkip || pendingSetup)) {
      throw new Error(`${file}:${i + 1}: a doctest comment must stand right before its code block`);
    }
  }
  return examples;
}
