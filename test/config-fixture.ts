/** A minimal agent config for tests that only parse and build: every required field, files that need not exist, `parts` on top. */
export function minimalConfig (parts: Record<string, unknown>): Record<string, unknown> {
  return {
    cluster: 'c1',
    host: 'h1',
    dc: 'A',
    pskFile: '/nonexistent/psk',
    members: [{ host: 'h1', peerId: 'p1' }],
    topologyFile: '/nonexistent/topology.json',
    address: 'fd00::1',
    capacity: { memoryMiB: 1024, vcpus: 2 },
    collector: { kind: 'file', path: '/nonexistent/flows' },
    hypervisor: { kind: 'xen' },
    ...parts
  }
}
