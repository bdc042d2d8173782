// Chat export file formats, as pure functions from a page of rows to text,
// shared by the conversations and training-examples exports. The streaming
// and the hash live in paged_stream.ts.
//   jsonl + openai:   {"messages": [{"role", "content"}...]} per line (OpenAI fine-tuning, TRL SFTTrainer)
//   jsonl + sharegpt: {"conversations": [{"from": "system"|"human"|"gpt", "value"}]} (Axolotl, LLaMA-Factory)
//   jsonl + raw / json: the stored conversation with its turns
//   csv: RFC 4180, one row per turn; markdown: one section per conversation, for a reviewer.
export const EXPORT_FORMATS = ['jsonl', 'json', 'csv', 'markdown'] as const;
export const EXPORT_SHAPES = ['openai', 'sharegpt', 'raw'] as const;
export type Format = typeof EXPORT_FORMATS[number];
export type Shape = typeof EXPORT_SHAPES[number];

export interface ChatTurn {
  role: 'user' | 'assistant' | 'system';
  content: string;
  turn_number?: number;
  token_count?: number | null;
}

/** One record of a chat export: the conversation's fields, its turns, a system prompt from elsewhere. */
export interface ExportRow {
  conversation: { id: string; created_at: string; [field: string]: unknown };
  turns: ChatTurn[];
  /** A system prompt to put first unless the turns have their own (e.g. the template's). */
  system_prompt: string | null;
}

export interface FileWriter {
  header: string;
  /** One page of rows; `first` is whether anything came before it. */
  page(rows: ExportRow[], first: boolean): string;
  footer: string;
  contentType: string;
  extension: string;
}

export function defaultShape(format: Format): Shape {
  return format === 'jsonl' ? 'openai' : 'raw';
}

const METADATA_FIELDS = ['id', 'conversation_id', 'title', 'persona', 'emotion', 'topic', 'intent', 'tone', 'tier', 'category',
  'status', 'quality_score', 'template_id', 'created_at'] as const;

function metadata(c: ExportRow['conversation']): Record<string, unknown> {
  return Object.fromEntries(METADATA_FIELDS.map((k) => [k, c[k] ?? null]));
}

/** The turns as chat messages, the template's system prompt first unless the conversation has its own. */
function messages(row: ExportRow): { role: string; content: string }[] {
  const turns = row.turns.map((t) => ({ role: t.role, content: t.content }));
  const hasSystem = turns.some((t) => t.role === 'system');
  return !hasSystem && row.system_prompt ? [{ role: 'system', content: row.system_prompt }, ...turns] : turns;
}

const SHAREGPT_FROM: Record<string, string> = { system: 'system', user: 'human', assistant: 'gpt' };

export function shapeRow(row: ExportRow, shape: Shape, includeMetadata: boolean): unknown {
  if (shape === 'raw') return { ...row.conversation, turns: row.turns };
  const extra = includeMetadata ? { metadata: metadata(row.conversation) } : {};
  if (shape === 'openai') return { messages: messages(row), ...extra };
  return { conversations: messages(row).map((m) => ({ from: SHAREGPT_FROM[m.role], value: m.content })), ...extra };
}

/** RFC 4180: quoted when it holds a quote, comma, CR or LF; quotes doubled. */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const CONVERSATION_COLUMNS = ['conversation_id', 'title', 'persona', 'emotion', 'topic', 'tier', 'status', 'quality_score'] as const;
const CSV_COLUMNS = [...CONVERSATION_COLUMNS, 'turn_number', 'role', 'content', 'token_count'] as const;

function csvRows(row: ExportRow, includeMetadata: boolean): string {
  const c = row.conversation;
  return row.turns.map((t) => {
    const fields = [...CONVERSATION_COLUMNS.map((k) => c[k]), t.turn_number, t.role, t.content, t.token_count].map(csvField);
    if (includeMetadata) fields.push(csvField(c.parameters ?? {}), csvField(c.quality_metrics ?? {}));
    return `${fields.join(',')}\r\n`;
  }).join('');
}

const ROLE_LABEL: Record<string, string> = { user: 'User', assistant: 'Assistant', system: 'System' };

function markdownSection(row: ExportRow, includeMetadata: boolean): string {
  const c = row.conversation;
  const pairs: [string, unknown][] = [
    ['conversation', `\`${String(c.conversation_id)}\``], ['persona', c.persona], ['emotion', c.emotion], ['topic', c.topic],
    ['tier', c.tier], ['status', c.status], ['quality', c.quality_score],
  ];
  const facts = pairs.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `- **${k}**: ${String(v)}`);
  if (includeMetadata && c.is_flagged) facts.push(`- **flagged**: ${String(c.flag_reason ?? 'yes')}`);
  const system = !row.turns.some((t) => t.role === 'system') && row.system_prompt ? [`> **System:** ${row.system_prompt}`] : [];
  const turns = row.turns.map((t) => `**${ROLE_LABEL[t.role]}:** ${t.content}`);
  return `## ${String(c.title || c.conversation_id)}\n\n${facts.join('\n')}\n\n${[...system, ...turns].join('\n\n')}\n\n---\n\n`;
}

export function fileWriter(format: Format, shape: Shape, includeMetadata: boolean): FileWriter {
  switch (format) {
    case 'jsonl':
      return {
        header: '', footer: '', contentType: 'application/jsonl; charset=utf-8', extension: 'jsonl',
        page: (rows) => rows.map((r) => `${JSON.stringify(shapeRow(r, shape, includeMetadata))}\n`).join(''),
      };
    case 'json':
      return {
        header: '[', footer: '\n]\n', contentType: 'application/json; charset=utf-8', extension: 'json',
        page: (rows, first) => rows.map((r, i) => `${first && i === 0 ? '\n' : ',\n'}${JSON.stringify(shapeRow(r, shape, includeMetadata))}`).join(''),
      };
    case 'csv': {
      const columns = includeMetadata ? [...CSV_COLUMNS, 'parameters', 'quality_metrics'] : [...CSV_COLUMNS];
      return {
        header: `${columns.join(',')}\r\n`, footer: '', contentType: 'text/csv; charset=utf-8', extension: 'csv',
        page: (rows) => rows.map((r) => csvRows(r, includeMetadata)).join(''),
      };
    }
    case 'markdown':
      return {
        header: '# Conversations\n\n', footer: '', contentType: 'text/markdown; charset=utf-8', extension: 'md',
        page: (rows) => rows.map((r) => markdownSection(r, includeMetadata)).join(''),
      };
  }
}
