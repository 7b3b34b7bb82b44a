export {
  POLICY_SCHEMA,
  POLICY_LIMITS,
  PRESENT_DEVICE_POLICIES,
  COMPOSITE_DEVICE_MODES,
  MAIL_EGRESS_MODES,
  MAIL_PORTS,
  PORT_CLASSES,
  PORT_ACTIONS,
  PolicyInvalidError,
  activeExceptions,
  formatPolicyError,
  type PolicyDocument,
  type PolicyError,
  type PresentDevicePolicy,
  type CompositeDeviceMode,
  type MailEgressMode,
  type MailEgressPolicy,
  type PortClass,
  type PortAction,
  type PortPolicy,
  type TemporaryException,
} from './policy-model.js';
export {
  DEFAULT_IMPLICIT_TARGET,
  DEFAULT_PORT_POLICY,
  DEFAULT_PRESENT_DEVICES,
  DEFAULT_COMPOSITE_DEVICES,
  DEFAULT_MAIL_EGRESS,
  buildPolicyDocument,
  validatePolicyInput,
  type NormalizedPolicyInput,
  type PolicyInput,
  type PolicyInputValidation,
  type PolicyMeta,
} from './policy-input.js';
export { parsePolicyDocument, POLICY_DOCUMENT_FIELDS } from './policy-document-parser.js';
export {
  ED25519_SIGNATURE_BYTES,
  POLICY_SIGNING_DOMAIN,
  policySigningPayload,
  signPolicy,
  verifySignedPolicy,
  type PolicySignatureVerifier,
  type PolicySigner,
  type SignedPolicy,
  type SignedPolicyDocument,
} from './policy-signing.js';
export { STARTER_POLICY_INPUT, STARTER_POLICY_RULES } from './starter-policy.js';
export { canonicalJson } from './canonical-json.js';
export { base64Decode, base64Encode } from './base64-codec.js';
export { parseIsoTimestamp } from './iso-timestamp.js';
export {
  familyBits,
  formatIpAddress,
  formatIpPrefix,
  parseIpAddress,
  parseIpPrefix,
  prefixRange,
  type IpAddress,
  type IpFamily,
  type IpParse,
  type IpPrefix,
} from './ip-prefix.js';
