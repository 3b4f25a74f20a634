/**
 * What every guest namespace (lab VMs and client networks) shares: quiet
 * IPv6 (no DAD, no router solicitations, addresses kept while the link is
 * down during a migration) and a sink port whose datagrams are dropped on
 * input, so traffic needs no receiver and draws no "port unreachable".
 */
export const SINK_PORT = 9

export function guestSysctls (): Record<string, number> {
  return {
    'net.ipv6.conf.all.accept_dad': 0,
    'net.ipv6.conf.default.accept_dad': 0,
    'net.ipv6.conf.all.accept_ra': 0,
    'net.ipv6.conf.default.accept_ra': 0,
    'net.ipv6.conf.default.router_solicitations': 0,
    'net.ipv6.conf.all.keep_addr_on_down': 1,
    'net.ipv6.conf.default.keep_addr_on_down': 1
  }
}

export function sinkScript (): string {
  return [
    'add table inet ht_sink',
    'delete table inet ht_sink',
    'table inet ht_sink {',
    `  chain input { type filter hook input priority 0; policy accept; udp dport ${SINK_PORT} drop; }`,
    '}'
  ].join('\n') + '\n'
}
