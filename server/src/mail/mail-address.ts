/**
 * Email addresses and domains as the registry and the policy service compare them: lower-case,
 * no display names, no quoted local parts, no IP literals. What Postfix hands over is already an
 * envelope address (`ali.aliyev@mincom.gov.az`), so anything fancier is refused, not guessed.
 */

const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** `Ali.Aliyev@MinCom.gov.az` → `ali.aliyev@mincom.gov.az`, or why it is not an address. */
export function parseMailAddress(text: string): Parsed<string> {
  const value = text.trim().toLowerCase();
  if (value.length === 0) return { ok: false, problem: 'the address is empty' };
  if (value.length > 254) return { ok: false, problem: 'the address is longer than 254 characters' };
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return { ok: false, problem: `"${text}" is not local@domain` };
  const local = value.slice(0, at);
  if (local.length > 64 || !LOCAL_PART.test(local)) return { ok: false, problem: `"${text}" has a local part that is not allowed` };
  const domain = parseDomain(value.slice(at + 1));
  return domain.ok ? { ok: true, value: `${local}@${domain.value}` } : { ok: false, problem: `"${text}": ${domain.problem}` };
}

/** `MinCom.gov.az.` → `mincom.gov.az`; at least two labels, letters, digits and inner hyphens. */
export function parseDomain(text: string): Parsed<string> {
  const value = text.trim().toLowerCase().replace(/\.$/, '');
  const labels = value.split('.');
  if (value.length === 0 || value.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels.at(-1) ?? '')) {
    return { ok: false, problem: `"${text}" is not a domain name` };
  }
  return { ok: true, value };
}

/** The domain of an address as Postfix sends it (already lower-cased by the caller), '' when none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).replace(/\.$/, '');
}

/**
 * Whether `domain` is one of `domains` or below one of them: `mail.mincom.gov.az` is in
 * `mincom.gov.az`, `evilmincom.gov.az` is not. Walks the domain's parents (a handful of labels)
 * so a set lookup replaces a scan of the list.
 */
export function inDomains(domain: string, domains: ReadonlySet<string>): boolean {
  if (domains.size === 0 || domain === '') return false;
  let rest = domain;
  for (;;) {
    if (domains.has(rest)) return true;
    const dot = rest.indexOf('.');
    if (dot < 0) return false;
    rest = rest.slice(dot + 1);
  }
}
