/** The overview's count cards: which colour a count gets. */

export type CardKind = 'total' | 'online' | 'stale' | 'offline' | 'revoked' | 'drift' | 'today' | 'month';

/**
 * The colour class suffix of a card, or undefined for plain text. Only a count that is not zero
 * is coloured: "0 offline" is good news and must not look like an alarm. Online is green,
 * stale and policy drift amber, offline and revoked red; totals and violation counts stay plain
 * (the chart and the log say more about them).
 */
export function cardTone(kind: CardKind, value: number): 'online' | 'stale' | 'offline' | 'revoked' | undefined {
  if (!(value > 0)) return undefined;
  switch (kind) {
    case 'online':
    case 'stale':
    case 'offline':
    case 'revoked':
      return kind;
    case 'drift':
      return 'stale';
    default:
      return undefined;
  }
}
