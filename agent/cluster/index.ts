/** The cluster layer's public surface, for the agent layer. */
export { Cluster, type ClusterComponents, type ClusterInit } from './cluster.ts'
export { DIGEST_HOLD_MS, MESSAGES_PER_ROUND, type Upstream, type UpstreamVerdict } from './inbound.ts'
export { QUORUM_ROUNDS } from './liveness.ts'
export { HELLO_ROUNDS, STATE_REFRESH_ROUNDS, type LocalState, type StateOptions } from './states.ts'
export type { ClusterCounters, ClusterEvent } from './types.ts'
