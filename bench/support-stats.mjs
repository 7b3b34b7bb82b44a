// Figures and tables shared by the benchmarks, so every bench reports percentiles the same way.
import pg from 'pg';

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN for no samples. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** A Markdown table (as RESULTS.md holds them); `align[i]` 'r' right-aligns column i. */
export function markdownTable(headers, rows, align = []) {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const right = (i) => (align[i] ?? 'l') === 'r';
  const line = (r) => '| ' + r.map((c, i) => (right(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (right(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(headers), rule, ...cells.slice(1).map(line)].join('\n');
}

/** Runs `fn` with a client on the `postgres` database of the server at `base` (postgres://user@host:port). */
export async function pgAdmin(base, fn) {
  const client = new pg.Client({ connectionString: `${base}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
