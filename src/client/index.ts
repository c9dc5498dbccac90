export { ErrorCode, type ErrorName, TotemError } from '../ipc/errors.js';
export {
  type CallOptions,
  Cpg,
  type CpgConfigurationChange,
  type CpgConnectOptions,
  type CpgEvents,
  type CpgGroup,
  type CpgMember,
  CpgMessage,
  type GuaranteeName,
  type IterateOptions,
  type LocalNode,
  type MemberReason,
  type ReconnectOptions,
  type RetryOptions,
  type SendOptions,
  type TotemConfigurationChange,
} from './cpg.js';
