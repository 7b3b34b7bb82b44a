import type { Attribute, Condition, DeviceIdPattern, InterfacePattern, Rule, SetOperator, Target } from './ast.js';
import { toByteString } from './byte-string.js';
import type { Device } from '../device/device.js';
import { printRule } from './printer.js';

/**
 * First-match evaluation of USBGuard rules against devices, with USBGuard's exact set semantics
 * (Rule::Attribute::appliesTo): a rule item "matches" a device item when its non-wildcard parts
 * are equal, and
 *   all-of          every rule item matches some device item
 *   one-of          some rule item matches some device item
 *   none-of         no rule item matches any device item
 *   equals          same number of items, and every rule item matches some device item
 *                   (not a bijection: USBGuard does not pair items up)
 *   equals-ordered  same number of items, item i matches item i
 *   match-all       every device item matches some rule item
 * Every single-valued device attribute (id, serial, name, …) is a set of exactly one value; a
 * missing one is the empty string. Conditions are evaluated only when the attributes match.
 *
 * Rules are indexed by exact device id, vendor and hash so a 10,000-rule policy costs a few
 * candidate rules per device; candidates are visited in rule order, so first-match stays exact.
 */

/** A device with its values in the form rules compare against (lower-case ids, byte strings). */
export interface PreparedDevice {
  readonly id: string;
  readonly vendor: string;
  readonly product: string;
  readonly serial: string;
  readonly name: string;
  readonly hash: string;
  readonly parentHash: string;
  readonly viaPort: string;
  readonly connectType: string;
  /** Each interface packed as class << 16 | subclass << 8 | protocol. */
  readonly interfaces: readonly number[];
}

export function prepareDevice(d: Device): PreparedDevice {
  const id = d.id.toLowerCase();
  return {
    id,
    vendor: id.slice(0, 4),
    product: id.slice(5, 9),
    serial: toByteString(d.serial ?? ''),
    name: toByteString(d.name ?? ''),
    hash: toByteString(d.hash ?? ''),
    parentHash: toByteString(d.parentHash ?? ''),
    viaPort: toByteString(d.viaPort ?? ''),
    connectType: toByteString(d.connectType ?? ''),
    interfaces: (d.interfaces ?? []).map((i) => parseInt(i.replaceAll(':', ''), 16)),
  };
}

/** When each rule (by index) was last evaluated and applied, for rule-applied / rule-evaluated. */
export interface RuleHistory {
  lastEvaluated(ruleIndex: number): number | undefined;
  lastApplied(ruleIndex: number): number | undefined;
  record(ruleIndex: number, atMs: number, applied: boolean): void;
}

export class MemoryRuleHistory implements RuleHistory {
  private readonly evaluated = new Map<number, number>();
  private readonly applied = new Map<number, number>();

  lastEvaluated(ruleIndex: number): number | undefined {
    return this.evaluated.get(ruleIndex);
  }

  lastApplied(ruleIndex: number): number | undefined {
    return this.applied.get(ruleIndex);
  }

  record(ruleIndex: number, atMs: number, applied: boolean): void {
    this.evaluated.set(ruleIndex, atMs);
    if (applied) this.applied.set(ruleIndex, atMs);
  }
}

export type DevicePredicate = (d: PreparedDevice) => boolean;

export interface EvaluationContext {
  /** The clock: `localtime` reads the local time of day from it. */
  readonly now: Date;
  /** Local time = UTC + this offset; when absent, the runtime's own time zone is local. */
  readonly utcOffsetMinutes?: number;
  /** Uniform [0,1) source for `random(p)`; Math.random when absent. */
  readonly random?: () => number;
  /** Without a history, rule-applied and rule-evaluated are false ("never"). */
  readonly history?: RuleHistory;
  /** Answers allowed-matches(query): is an allowed device matched by it? False when absent. */
  readonly allowedMatches?: (query: DevicePredicate) => boolean;
}

export interface Decision {
  readonly target: Target;
  /** 1-based line of the matching rule; null when the implicit target applied. */
  readonly line: number | null;
  readonly ruleIndex: number | null;
  readonly implicit: boolean;
  /** Lines of rules whose attributes matched but whose conditions did not hold. */
  readonly conditionsNotMet: readonly number[];
}

interface CompiledRule {
  readonly index: number;
  readonly rule: Rule;
  readonly attributes: DevicePredicate;
  readonly conditions: ((ctx: EvaluationContext, index: number) => boolean) | null;
}

const EMPTY: readonly number[] = [];

export class CompiledPolicy {
  private readonly compiled: CompiledRule[];
  /** Rule indexes by the most selective key each rule allows; see index(). */
  private readonly byHash = new Map<string, number[]>();
  private readonly byIdSerial = new Map<string, number[]>();
  private readonly byId = new Map<string, number[]>();
  private readonly byVendor = new Map<string, number[]>();
  private readonly unindexed: number[] = [];

  constructor(
    readonly rules: readonly Rule[],
    readonly implicitTarget: Target = 'block',
  ) {
    this.compiled = rules.map((rule, index) => ({
      index,
      rule,
      attributes: compileAttributes(rule),
      conditions: rule.conditions ? compileConditions(rule.conditions) : null,
    }));
    for (const c of this.compiled) this.index(c);
  }

  decide(device: PreparedDevice, ctx: EvaluationContext): Decision {
    const l0 = this.byHash.get(device.hash) ?? EMPTY;
    const l1 = this.byIdSerial.size > 0 ? (this.byIdSerial.get(idSerialKey(device.id, device.serial)) ?? EMPTY) : EMPTY;
    const l2 = this.byId.get(device.id) ?? EMPTY;
    const l3 = this.byVendor.get(device.vendor) ?? EMPTY;
    const l4 = this.unindexed;
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    let c4 = 0;
    let notMet: number[] | null = null;
    // Visit the union of the five sorted candidate lists in rule order (a 5-way merge, unrolled:
    // this loop is the hot path of every plug event and of the benchmark).
    for (;;) {
      const v0 = c0 < l0.length ? (l0[c0] as number) : Infinity;
      const v1 = c1 < l1.length ? (l1[c1] as number) : Infinity;
      const v2 = c2 < l2.length ? (l2[c2] as number) : Infinity;
      const v3 = c3 < l3.length ? (l3[c3] as number) : Infinity;
      const v4 = c4 < l4.length ? (l4[c4] as number) : Infinity;
      const next = Math.min(v0, v1, v2, v3, v4);
      if (next === Infinity) break;
      if (v0 === next) c0++;
      if (v1 === next) c1++;
      if (v2 === next) c2++;
      if (v3 === next) c3++;
      if (v4 === next) c4++;
      const rule = this.compiled[next] as CompiledRule;
      if (!rule.attributes(device)) continue;
      const met = rule.conditions === null || rule.conditions(ctx, next);
      ctx.history?.record(next, ctx.now.getTime(), met);
      if (met) {
        return {
          target: rule.rule.target,
          line: rule.rule.line,
          ruleIndex: next,
          implicit: false,
          conditionsNotMet: notMet ?? EMPTY,
        };
      }
      (notMet ??= []).push(rule.rule.line);
    }
    return { target: this.implicitTarget, line: null, ruleIndex: null, implicit: true, conditionsNotMet: notMet ?? EMPTY };
  }

  /** The matching rule as USBGuard prints it, or null for the implicit target. */
  ruleText(decision: Decision): string | null {
    return decision.ruleIndex === null ? null : printRule(this.rules[decision.ruleIndex] as Rule);
  }

  /**
   * Files a rule under one index, the most selective its attributes allow: the hashes it can
   * match (one physical device each), else its exact ids with serials, else its exact ids, else
   * its vendors, else the list every device visits. A key only narrows; the full predicate still
   * decides. (Filing by id before hash made every registered unit of a bulk-bought model share one
   * list: 1,500 candidates per decision in the benchmark.)
   */
  private index(c: CompiledRule): void {
    const { rule, index } = c;
    const hashes = narrowingValues(rule.hash);
    if (hashes) {
      for (const h of new Set(hashes)) push(this.byHash, h, index);
      return;
    }
    const ids = narrowingValues(rule.id);
    const exactIds = ids?.every((v) => v.vendor !== null && v.product !== null)
      ? [...new Set(ids.map((v) => `${v.vendor}:${v.product}`))]
      : undefined;
    const serials = narrowingValues(rule.serial);
    if (exactIds && serials && exactIds.length * serials.length <= 64) {
      for (const id of exactIds) for (const s of new Set(serials)) push(this.byIdSerial, idSerialKey(id, s), index);
      return;
    }
    if (exactIds) {
      for (const id of exactIds) push(this.byId, id, index);
      return;
    }
    if (ids && ids.every((v) => v.vendor !== null)) {
      for (const v of new Set(ids.map((v) => v.vendor as string))) push(this.byVendor, v, index);
      return;
    }
    this.unindexed.push(index);
  }
}

function idSerialKey(id: string, serial: string): string {
  return `${id}\u0000${serial}`;
}

/**
 * For a single-valued attribute, the rule values one of which the device value must match for
 * the rule to apply; undefined when the operator does not narrow (none-of) or no attribute.
 */
function narrowingValues<T>(attr: Attribute<T> | undefined): readonly T[] | undefined {
  if (!attr) return undefined;
  return attr.operator === 'none-of' ? undefined : attr.values;
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list) list.push(index);
  else map.set(key, [index]);
}

/** The attribute part of a rule as one predicate (also used for allowed-matches queries). */
export function compileAttributes(rule: Rule): DevicePredicate {
  const preds: DevicePredicate[] = [];
  if (rule.id) preds.push(single(rule.id, (d) => d, idMatches));
  const strings: Array<[Attribute<string> | undefined, (d: PreparedDevice) => string]> = [
    [rule.serial, (d) => d.serial],
    [rule.name, (d) => d.name],
    [rule.hash, (d) => d.hash],
    [rule.parentHash, (d) => d.parentHash],
    [rule.viaPort, (d) => d.viaPort],
    [rule.withConnectType, (d) => d.connectType],
  ];
  for (const [attr, get] of strings) if (attr) preds.push(single(attr, get, (p, v) => p === v));
  if (rule.withInterface) preds.push(interfaces(rule.withInterface));
  switch (preds.length) {
    case 0:
      return () => true;
    case 1:
      return preds[0] as DevicePredicate;
    default:
      return (d) => {
        for (const p of preds) if (!p(d)) return false;
        return true;
      };
  }
}

function idMatches(p: DeviceIdPattern, d: PreparedDevice): boolean {
  return (p.vendor === null || p.vendor === d.vendor) && (p.product === null || p.product === d.product);
}

/** A rule attribute against a device attribute that always holds exactly one value. */
function single<T, V>(attr: Attribute<T>, get: (d: PreparedDevice) => V, matches: (p: T, v: V) => boolean): DevicePredicate {
  const values = attr.values;
  const op: SetOperator = attr.operator;
  switch (op) {
    case 'equals':
    case 'equals-ordered': {
      if (values.length !== 1) return () => false;
      const p = values[0] as T;
      return (d) => matches(p, get(d));
    }
    case 'all-of':
      return (d) => {
        const v = get(d);
        for (const p of values) if (!matches(p, v)) return false;
        return true;
      };
    case 'one-of':
    case 'match-all':
      return (d) => {
        const v = get(d);
        for (const p of values) if (matches(p, v)) return true;
        return false;
      };
    case 'none-of':
      return (d) => {
        const v = get(d);
        for (const p of values) if (matches(p, v)) return false;
        return true;
      };
  }
}

function interfaces(attr: Attribute<InterfacePattern>): DevicePredicate {
  const masks = attr.values.map((p) => 0xff0000 | (p.subclass === null ? 0 : 0xff00) | (p.protocol === null ? 0 : 0xff));
  const wants = attr.values.map((p) => (p.cls << 16) | ((p.subclass ?? 0) << 8) | (p.protocol ?? 0));
  const n = masks.length;
  const hit = (i: number, iface: number): boolean => (iface & (masks[i] as number)) === wants[i];
  const someDevice = (i: number, ifs: readonly number[]): boolean => {
    for (const f of ifs) if (hit(i, f)) return true;
    return false;
  };
  const everyRuleItemFound = (ifs: readonly number[]): boolean => {
    for (let i = 0; i < n; i++) if (!someDevice(i, ifs)) return false;
    return true;
  };
  const anyRuleItemFound = (ifs: readonly number[]): boolean => {
    for (let i = 0; i < n; i++) if (someDevice(i, ifs)) return true;
    return false;
  };
  switch (attr.operator) {
    case 'all-of':
      return (d) => everyRuleItemFound(d.interfaces);
    case 'one-of':
      return (d) => anyRuleItemFound(d.interfaces);
    case 'none-of':
      return (d) => !anyRuleItemFound(d.interfaces);
    case 'equals':
      return (d) => d.interfaces.length === n && everyRuleItemFound(d.interfaces);
    case 'equals-ordered':
      return (d) => {
        const ifs = d.interfaces;
        if (ifs.length !== n) return false;
        for (let i = 0; i < n; i++) if (!hit(i, ifs[i] as number)) return false;
        return true;
      };
    case 'match-all':
      return (d) => {
        for (const f of d.interfaces) {
          let found = false;
          for (let i = 0; i < n && !found; i++) found = hit(i, f);
          if (!found) return false;
        }
        return true;
      };
  }
}

/** Conditions combine as in RulePrivate::meetsConditions; match-all counts as all-of. */
function compileConditions(attr: Attribute<Condition>): (ctx: EvaluationContext, index: number) => boolean {
  const conds = attr.values.map(compileCondition);
  switch (attr.operator) {
    case 'one-of':
      return (ctx, index) => conds.some((c) => c(ctx, index));
    case 'none-of':
      return (ctx, index) => !conds.some((c) => c(ctx, index));
    default:
      return (ctx, index) => conds.every((c) => c(ctx, index));
  }
}

function compileCondition(c: Condition): (ctx: EvaluationContext, index: number) => boolean {
  const raw = compileRawCondition(c);
  return c.negated ? (ctx, index) => !raw(ctx, index) : raw;
}

function compileRawCondition(c: Condition): (ctx: EvaluationContext, index: number) => boolean {
  switch (c.kind) {
    case 'true':
      return () => true;
    case 'false':
      return () => false;
    case 'localtime':
      return (ctx) => {
        const s = localSecondsOfDay(ctx);
        return s >= c.begin && s <= c.end;
      };
    case 'random':
      return (ctx) => (ctx.random ?? Math.random)() < c.probability;
    case 'rule-applied':
    case 'rule-evaluated':
      return (ctx, index) => {
        const h = ctx.history;
        const last = c.kind === 'rule-applied' ? h?.lastApplied(index) : h?.lastEvaluated(index);
        if (last === undefined) return false;
        return c.withinSeconds === 0 || ctx.now.getTime() - last <= c.withinSeconds * 1000;
      };
    case 'allowed-matches': {
      const query = compileAttributes(c.query);
      return (ctx) => ctx.allowedMatches?.(query) ?? false;
    }
  }
}

export function localSecondsOfDay(ctx: Pick<EvaluationContext, 'now' | 'utcOffsetMinutes'>): number {
  if (ctx.utcOffsetMinutes === undefined) {
    const n = ctx.now;
    return n.getHours() * 3600 + n.getMinutes() * 60 + n.getSeconds();
  }
  const ms = ctx.now.getTime() + ctx.utcOffsetMinutes * 60_000;
  return Math.floor((((ms / 1000) % 86400) + 86400) % 86400);
}
