import { ErrorCodes, PortcullisError } from '@portcullis/shared';

/**
 * Checks the server link's address, e.g. `wss://portcullis.ministry.local:8443/agent`. Production
 * takes only `wss:` (the agent's identity secret travels in the upgrade request); `ws:` is let
 * through only when the caller says so explicitly, which tests do against a local server.
 */
export function checkLinkUrl(url: string, allowInsecure: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PortcullisError(ErrorCodes.CONFIG, `the server link address is not a URL: ${url}`);
  }
  if (parsed.protocol === 'wss:') return parsed;
  if (parsed.protocol === 'ws:' && allowInsecure) return parsed;
  throw new PortcullisError(ErrorCodes.CONFIG, `the server link must use wss:// (got ${parsed.protocol}//)`);
}
