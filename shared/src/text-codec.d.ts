// shared/ compiles without DOM or Node typings (it must stay runtime-neutral); these are the
// only two platform globals it uses, present in every browser and in Node.js.
declare class TextEncoder {
  encode(input: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input: Uint8Array): string;
}
