/**
 * What a message costs a js-libp2p agent, measured on this project's
 * agents and on this machine (docs/design.md §9.7 gives the derivations).
 * Every figure is a named constant so the model's assumptions can be read
 * in one place and changed when a new measurement says otherwise.
 */

/**
 * CPU of a warm, idle agent: timers (the 100 ms round loop), gossipsub's
 * 1 s heartbeat, DHT and ping upkeep. lab/bench/gossip/heliotrope.ts
 * measured 27 ms/s right after start and 5 ms/s once warm.
 */
export const IDLE_CPU_MS_PER_S = 5

/**
 * CPU per frame a js-libp2p agent receives or sends (noise, yamux,
 * protobuf, stream plumbing, events), fitted to bench:gossip at 64 agents
 * (742 ms per agent per round over a 40.96 s round): 742 - 5 x 40.96 idle =
 * 537 ms for 149 unique messages in (the today model's count at 64 agents),
 * each received 7 times and forwarded 6 times, less their signature checks
 * and decoding: (537 - 149 x (0.31 + 0.02)) / (149 x 13) = 0.25 ms.
 * In and out are assumed to cost the same (the profile in
 * docs/benchmarks.md has socket writes and noise near the read path's share).
 */
export const FRAME_CPU_MS = 0.25

/**
 * A tiered agent's own cost (docs/design.md §9.8), fitted to bench:gossip
 * (tiered, 2 DHT servers per DC, 4 agents per process): upkeep per second
 * (timers, DHT and connection upkeep) and work per round that is not a
 * message (listing VMs, reading counters, building and signing its
 * digest, the view's and round records' upkeep). Two runs of the same 16
 * agents at two periods separate them; 32 and 64 agents check them
 * (lab/model/calibration.ts, docs/design.md §9.7).
 */
export const RELAY_IDLE_CPU_MS_PER_S = 2.7
export const RELAY_ROUND_WORK_MS = 26

/** ed25519 verify with a key object made per check, as gossipsub does today (node 24, this machine, CPU time). */
export const VERIFY_MS = 0.31
/** ed25519 verify with a cached key object: what signed reports and votes cost once keys are kept. */
export const VERIFY_CACHED_MS = 0.21
export const SIGN_MS = 0.075
/** cborg decode: 22 MB/s on a 4 KB digest (this machine, CPU time). */
export const DECODE_MS_PER_KB = 0.045
/** sha256: 1.3 GB/s (node's crypto). */
export const HASH_MS_PER_KB = 0.00076
/** Per VM the thesis planner plans (bench:planner: 936 ms CPU at 100,000 VMs on 16 DCs). */
export const PLAN_CPU_MS_PER_VM = 0.0094
/**
 * A new connection (TCP, pnet, noise XX, yamux, identify) on both ends.
 * Not measured: an estimate from the handshake's 3 X25519, 1 sign and
 * 1 verify plus about 10 frames. Aggregators are kept for an epoch so
 * hosts do not reconnect every round (docs/design.md §9.2).
 */
export const CONNECT_CPU_MS = 5

/**
 * gossipsub copies: each flooded message reaches an agent from its author
 * (flood publish) and from up to D = 6 mesh peers, and each agent forwards
 * it to its mesh peers. Estimates from the settings, not counts (as
 * docs/benchmarks.md says).
 */
export const GOSSIP_COPIES_IN = 7
export const GOSSIP_FORWARDS_OUT = 6

/** Per frame on the wire besides the message: noise tag 16, yamux 12, TCP/IPv6 headers 72 (an ACK segment not counted). */
export const TRANSPORT_OVERHEAD_B = 100
/** gossipsub's RPC around a published message: from, seqno, topic, signature. */
export const GOSSIP_OVERHEAD_B = 150

/** One-way latency inside a DC. */
export const LAN_LATENCY_MS = 0.25
/** A host's NIC: big transfers (DC bundles) take their bytes' time. */
export const NIC_BPS = 1e9
/** How long a host takes to notice a dead peer on an open stream (yamux keep-alive, TCP reset). */
export const DETECT_DEAD_MS = 1000
/** A stream frame lost on a lossy path is resent after this (TCP's minimum RTO). */
export const RETRANSMIT_MS = 200
