import { canonicalJson, encodeMessage, MAX_FRAME_BYTES, PROTOCOL_VERSION, type InventoryMessage } from '@portcullis/shared';
import { INVENTORY_SECTIONS, SECTION_LISTS, isSectionError, type Inventory, type InventorySectionName, type ListSectionName } from './inventory-model.js';

/** Changed sections, whole, plus the time they were collected. */
export type InventoryChanges = Partial<Omit<Inventory, 'collectedAt'>> & { readonly collectedAt: string };

/** An `inventory` message body, typed by the inventory's own shape. */
export type InventoryUpdate =
  | { readonly kind: 'snapshot'; readonly inventory: Inventory }
  | { readonly kind: 'delta'; readonly changes: InventoryChanges };

/** Top-level sections whose content differs (canonical JSON: key order does not count). */
export function changedSections(previous: Inventory, next: Inventory): InventorySectionName[] {
  return INVENTORY_SECTIONS.filter((name) => canonicalJson(previous[name]) !== canonicalJson(next[name]));
}

/**
 * What to send so the server, which merges a delta shallowly (`{...current, ...changes}`), ends
 * up holding `next`: a snapshot when nothing was sent before, null when no section changed (a new
 * `collectedAt` alone is not news), else the changed sections whole with the new `collectedAt`.
 */
export function inventoryDelta(previous: Inventory | null, next: Inventory): InventoryUpdate | null {
  if (previous === null) return { kind: 'snapshot', inventory: next };
  const changed = changedSections(previous, next);
  if (changed.length === 0) return null;
  const changes: Record<string, unknown> = { collectedAt: next.collectedAt };
  for (const name of changed) changes[name] = next[name];
  return { kind: 'delta', changes: changes as InventoryChanges };
}

/**
 * Frame budget of a snapshot: under MAX_FRAME_BYTES (1 MiB) with room to spare, so an inventory
 * never comes near the limit the server enforces.
 */
export const INVENTORY_MAX_FRAME_BYTES = 900 * 1024;

function snapshotMessage(inventory: Inventory): InventoryMessage {
  return { v: PROTOCOL_VERSION, type: 'inventory', body: { kind: 'snapshot', inventory } };
}

function frameBytes(inventory: Inventory): number {
  return Buffer.byteLength(JSON.stringify(snapshotMessage(inventory)), 'utf8');
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The inventory cut down so its snapshot frame is at most `maxFrameBytes`; returned unchanged
 * when it already fits. Lists are cut from the end, largest list first (in practice the software
 * list), each section saying `truncated: true` while `total` still counts every entry. Any delta
 * of a fitted inventory is a subset of its snapshot, so it fits too. Should a section without a
 * list still be too large (it cannot be with the mappers' bounded text, but the input is not
 * trusted), it is replaced by an error rather than break the frame. Lists are kept in their
 * sorted order, so the same machine is cut the same way each time and makes no spurious delta.
 */
export function fitInventory(inventory: Inventory, maxFrameBytes: number = INVENTORY_MAX_FRAME_BYTES): Inventory {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1024 || maxFrameBytes > MAX_FRAME_BYTES) {
    throw new RangeError(`maxFrameBytes must be an integer from 1024 to ${MAX_FRAME_BYTES} (got ${maxFrameBytes})`);
  }
  let current = inventory;
  let over = frameBytes(current) - maxFrameBytes;
  if (over <= 0) return inventory;

  for (const name of listSectionsBySize(current)) {
    const key = SECTION_LISTS[name];
    const section = current[name] as unknown as Record<string, unknown>;
    const list = section[key] as readonly unknown[];
    let keep = list.length;
    let removed = 0;
    // Each entry dropped saves its own bytes and a comma; `truncated: true` is a byte shorter than `false`.
    while (keep > 0 && removed < over) {
      keep--;
      removed += jsonBytes(list[keep]) + 1;
    }
    current = { ...current, [name]: { ...section, truncated: true, [key]: list.slice(0, keep) } };
    over = frameBytes(current) - maxFrameBytes;
    if (over <= 0) break;
  }

  for (const name of sectionsBySize(current)) {
    if (over <= 0) break;
    const bytes = jsonBytes(current[name]);
    current = { ...current, [name]: { error: `section too large to send (${bytes} bytes of JSON)` } };
    over = frameBytes(current) - maxFrameBytes;
  }
  // Asserts the result: encodeMessage throws should the arithmetic above ever be wrong.
  encodeMessage(snapshotMessage(current));
  return current;
}

/** List sections holding a non-empty list, largest JSON first. */
function listSectionsBySize(inventory: Inventory): ListSectionName[] {
  const names = (Object.keys(SECTION_LISTS) as ListSectionName[]).filter((name) => {
    const section = inventory[name];
    if (isSectionError(section)) return false;
    const list = (section as unknown as Record<string, unknown>)[SECTION_LISTS[name]];
    return Array.isArray(list) && list.length > 0;
  });
  return bySize(inventory, names);
}

function sectionsBySize(inventory: Inventory): InventorySectionName[] {
  return bySize(inventory, [...INVENTORY_SECTIONS]);
}

function bySize<N extends InventorySectionName>(inventory: Inventory, names: N[]): N[] {
  const sizes = new Map(names.map((name) => [name, jsonBytes(inventory[name])]));
  // Ties broken by the fixed section order, so the cut is deterministic.
  return names.sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0) || INVENTORY_SECTIONS.indexOf(a) - INVENTORY_SECTIONS.indexOf(b));
}
