/**
 * The address registry as CSV (RFC 4180: comma-separated, `"` quotes, `""` inside quotes, CR LF
 * or LF line ends), one header row naming the columns:
 *
 *     address,owner,group,logins,state,notes
 *     ali.aliyev@mincom.gov.az,Ali Aliyev,finance,ali.aliyev,active,
 *     "kadr@mincom.gov.az","Kadrlar şöbəsi, ümumi",hr,kadr1 kadr2,active,"shared mailbox"
 *
 * `logins` holds the SASL logins separated by spaces. Columns may come in any order; `address`,
 * `owner` and `group` are required, the rest default (no logins, active, no notes).
 */

export const CSV_COLUMNS = ['address', 'owner', 'group', 'logins', 'state', 'notes'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
const REQUIRED: readonly CsvColumn[] = ['address', 'owner', 'group'];

export interface CsvProblem {
  readonly line: number;
  readonly message: string;
}

export type CsvRow = { readonly line: number } & Readonly<Partial<Record<CsvColumn, string>>>;

/** Splits CSV text into records of fields, with the line each record starts on. */
export function splitCsv(text: string): { records: Array<{ line: number; fields: string[] }>; problems: CsvProblem[] } {
  const records: Array<{ line: number; fields: string[] }> = [];
  const problems: CsvProblem[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a BOM, as spreadsheet programs write
  let fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === '"') {
      problems.push({ line, message: 'a quote in the middle of an unquoted field (quote the whole field and double the quote)' });
      field += c;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) problems.push({ line: recordLine, message: 'a quoted field is not closed' });
  else if (field !== '' || fields.length > 0) endRecord();
  return { records, problems };
}

/** Reads the header and maps every row to its named columns; problems name the line. */
export function parseAddressCsv(text: string, maxRows: number): { rows: CsvRow[]; problems: CsvProblem[] } {
  const { records, problems } = splitCsv(text);
  const [header, ...body] = records;
  if (header === undefined) return { rows: [], problems: [...problems, { line: 1, message: 'the file is empty; the first line must name the columns' }] };
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0) problems.push({ line: header.line, message: `unknown column(s) ${unknown.join(', ')}; expected ${CSV_COLUMNS.join(',')}` });
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0) problems.push({ line: header.line, message: `missing column(s) ${missing.join(', ')}` });
  if (new Set(columns).size !== columns.length) problems.push({ line: header.line, message: 'a column is named twice' });
  if (body.length > maxRows) problems.push({ line: body[maxRows]?.line ?? header.line, message: `more than ${maxRows} rows; split the file` });
  if (problems.length > 0) return { rows: [], problems };
  const rows: CsvRow[] = [];
  for (const record of body) {
    if (record.fields.length !== columns.length) {
      problems.push({ line: record.line, message: `${record.fields.length} fields; the header has ${columns.length}` });
      continue;
    }
    const row: Partial<Record<CsvColumn, string>> = {};
    columns.forEach((c, i) => (row[c as CsvColumn] = unescapeFormula(record.fields[i] ?? '')));
    rows.push({ line: record.line, ...row });
  }
  return { rows, problems };
}

/** One CSV field, quoted when it must be, and defused for spreadsheets (see escapeFormula). */
export function csvField(value: string): string {
  const safe = escapeFormula(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * A cell starting with `=`, `+`, `-`, `@` or a tab is a formula to Excel and LibreOffice (CSV
 * injection): the export puts a `'` before it, and the import takes that `'` off again.
 */
function escapeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function unescapeFormula(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}
