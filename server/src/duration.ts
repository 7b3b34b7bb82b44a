/** `30m`, `24h`, `7d`, `2w` → milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,6})([mhdw])$/.exec(text.trim());
  if (!m) return null;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
