import { request } from 'node:https';

export interface Reply {
  status: number;
  json: any;
}

/** One HTTPS call to the server's REST API, trusting only the server's own CA. */
export function call(base: string, ca: Buffer, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method,
        ca,
        headers: {
          ...(data ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Polls `check` every 50 ms until it holds; fails naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every event of one agent (all pages), oldest first. */
export async function agentEvents(base: string, ca: Buffer, token: string, agentId: string, type?: string): Promise<any[]> {
  const events: any[] = [];
  let cursor: string | null = null;
  do {
    const page: Reply = await call(
      base,
      ca,
      'GET',
      `/api/v1/events?agent=${agentId}${type ? `&type=${type}` : ''}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      undefined,
      token,
    );
    if (page.status !== 200) throw new Error(`GET /events: ${page.status} ${JSON.stringify(page.json)}`);
    events.push(...page.json.events);
    cursor = page.json.nextCursor;
  } while (cursor !== null);
  return events.sort((a, b) => a.seq - b.seq);
}
