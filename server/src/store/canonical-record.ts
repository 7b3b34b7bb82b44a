import { canonicalJson } from '@portcullis/shared';

type Scalar = string | number | null;

/**
 * The canonical JSON of one kind of chained record: exactly what shared's `canonicalJson(record)`
 * writes (keys sorted by UTF-16 code unit, no whitespace), with the key order worked out once per
 * kind rather than per record. A JSON column goes in as the text that is stored, so it is
 * serialized once and hashed as stored: any change to the column breaks the link, even one that
 * keeps its meaning.
 */
export class CanonicalRecordShape<S extends string, J extends string> {
  readonly #fields: ReadonlyArray<{ readonly key: S | J; readonly prefix: string; readonly storedJson: boolean }>;

  constructor(scalarKeys: readonly S[], storedJsonKeys: readonly J[]) {
    const json = new Set<string>(storedJsonKeys);
    this.#fields = [...scalarKeys, ...storedJsonKeys]
      .sort()
      .map((key, i) => ({ key, prefix: `${i === 0 ? '' : ','}${JSON.stringify(key)}:`, storedJson: json.has(key) }));
  }

  write(scalars: Readonly<Record<S, Scalar>>, storedJson: Readonly<Record<J, string>>): string {
    let out = '{';
    for (const { key, prefix, storedJson: isJson } of this.#fields) {
      out += prefix + (isJson ? (storedJson as Record<string, string>)[key] : canonicalJson((scalars as Record<string, Scalar>)[key]));
    }
    return `${out}}`;
  }
}
