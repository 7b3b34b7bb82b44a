export * from './ast.js';
export { parseRule, parseRuleFile } from './parser.js';
export { printRule, printString, printCondition, printInterface, printDeviceId } from './printer.js';
export { RuleSyntaxError } from './rule-syntax-error.js';
export { toByteString, escapeByteString, byteStringToText } from './byte-string.js';
export {
  CompiledPolicy,
  MemoryRuleHistory,
  compileAttributes,
  prepareDevice,
  localSecondsOfDay,
  type Decision,
  type DevicePredicate,
  type EvaluationContext,
  type PreparedDevice,
  type RuleHistory,
} from './matcher.js';
