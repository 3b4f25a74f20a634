/**
 * Names of everything a cluster speaks: topics and stream protocols all live
 * under /heliotrope/<cluster>/, so two clusters sharing a network (or a lab
 * machine) never mix their traffic even before the pre-shared key does.
 */

/** Cluster names are short, lower-case, and safe inside a protocol id. */
export const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Throws unless `cluster` is a valid cluster name. */
export function checkClusterName (cluster: string): string {
  if (!CLUSTER_NAME.test(cluster)) {
    throw new TypeError(`cluster name must match ${String(CLUSTER_NAME)}, found ${JSON.stringify(cluster)}`)
  }
  return cluster
}

/** Gossip topic `/heliotrope/<cluster>/<name>` (host, traffic, plan, event). */
export function clusterTopic (cluster: string, name: string): string {
  return `/heliotrope/${checkClusterName(cluster)}/${name}`
}

/** Stream protocol `/heliotrope/<cluster>/<name>/<version>` (kad, migrate). */
export function clusterProtocol (cluster: string, name: string, version = '1.0.0'): string {
  return `/heliotrope/${checkClusterName(cluster)}/${name}/${version}`
}
