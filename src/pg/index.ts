export {
  CRYPTO_OVERHEAD_BYTES,
  DEFAULT_FRAME_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PACKED_CHUNKS,
  ETHERNET_MTU,
  IP_HEADER_BYTES,
  SRP_MCAST_HEADER_BUDGET,
  UDP_HEADER_BYTES,
} from './budget.js';
export { MAX_GROUP_BYTES, MIN_FRAME_BYTES } from './frame.js';
export type { GroupName } from './group-name.js';
export { LoopbackOrderedChannel, LoopbackRing } from './loopback-ordered-channel.js';
export {
  type GroupListener,
  type Membership,
  ProcessGroups,
  type ProcessGroupsOptions,
  type ProcessGroupsStats,
  type SendResult,
} from './process-groups.js';
