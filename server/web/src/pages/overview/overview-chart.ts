/** Layout of the overview's 30-day bar chart, as numbers for plain SVG elements (no chart library). */

export interface DayCount {
  readonly day: string;
  readonly count: number;
}

export interface Bar {
  readonly day: string;
  readonly count: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface ChartLayout {
  readonly bars: readonly Bar[];
  /** Gridline values, 0 first, the last one the top of the scale. */
  readonly ticks: readonly { readonly value: number; readonly y: number }[];
  /** Which bars get a date label under them (every `step`-th, and always the last). */
  readonly labelled: readonly number[];
}

export interface ChartBox {
  readonly width: number;
  readonly height: number;
  /** Room left of the plot for the value axis and below it for the dates. */
  readonly left: number;
  readonly bottom: number;
  readonly top: number;
}

/** A "nice" top for the scale: 1, 2 or 5 times a power of ten, at least `max` (and at least 1). */
export function niceCeiling(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * power >= max) return m * power;
  return 10 * power;
}

export function layoutBars(days: readonly DayCount[], box: ChartBox, labelStep = 5): ChartLayout {
  const plotWidth = box.width - box.left;
  const plotHeight = box.height - box.top - box.bottom;
  const top = niceCeiling(Math.max(0, ...days.map((d) => d.count)));
  const slot = days.length > 0 ? plotWidth / days.length : plotWidth;
  const gap = Math.min(4, slot * 0.2);
  const base = box.top + plotHeight;
  const bars = days.map((d, i) => {
    const height = (d.count / top) * plotHeight;
    return { day: d.day, count: d.count, x: box.left + i * slot + gap / 2, y: base - height, width: slot - gap, height };
  });
  const tickCount = top <= 4 ? top : 4;
  const ticks = Array.from({ length: tickCount + 1 }, (_, i) => {
    const value = (top / tickCount) * i;
    return { value, y: base - (value / top) * plotHeight };
  });
  const labelled = days.map((_, i) => i).filter((i) => (days.length - 1 - i) % labelStep === 0);
  return { bars, ticks, labelled };
}

/** `2026-11-25` → `25.11` (day first, as both console languages write dates). */
export function shortDay(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  return m ? `${m[3]}.${m[2]}` : day;
}
