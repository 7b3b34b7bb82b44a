// Deterministic randomness shared by the benchmarks: the same seed gives the same workload.

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  int(n) {
    return Math.floor(this.next() * n);
  }
  pick(arr) {
    return arr[this.int(arr.length)];
  }
  chance(p) {
    return this.next() < p;
  }
  hex(digits, upper = false) {
    let s = '';
    for (let i = 0; i < digits; i++) s += '0123456789abcdef'[this.int(16)];
    return upper ? s.toUpperCase() : s;
  }
  digits(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
  /** A USBGuard device hash: base64 of a SHA-256 (44 characters, one '=' of padding). */
  hash() {
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let s = '';
    for (let i = 0; i < 42; i++) s += B64[this.int(64)];
    return s + 'AEIMQUYcgkosw048'[this.int(16)] + '=';
  }
  /** One value of `[weight, value]` pairs, with probability proportional to its weight. */
  weighted(items) {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) if ((r -= w) < 0) return v;
    return items.at(-1)[1];
  }
  shuffle(arr) {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [arr[i], arr[j]] = [arr[j], arr[i]];
    }
    return arr;
  }
}
